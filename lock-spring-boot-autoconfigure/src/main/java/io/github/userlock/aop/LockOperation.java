package io.github.userlock.aop;

import java.lang.reflect.Method;
import java.time.Duration;

import io.github.userlock.LockRequest;
import org.jspecify.annotations.Nullable;

/**
 * What a {@code @UserLock} method asks for, parsed and checked once.
 *
 * @param method the method as declared by the bean's class (parameter names come from here)
 * @param keys the key expressions
 * @param namespace the namespace ({@code name}), empty for none
 * @param waitTime the wait time, {@code null} for the registry default
 * @param leaseTime the lease time, {@code null} for the registry default
 * @param holdAtLeast how long the key stays locked at least after acquisition; zero for no minimum
 * @param kind how the method's result is awaited before release
 */
record LockOperation(Method method, String[] keys, String namespace, @Nullable Duration waitTime,
		@Nullable Duration leaseTime, Duration holdAtLeast, Kind kind) {

	LockRequest request(String key, @Nullable Duration waitTime) {
		return new LockRequest(key, this.namespace, waitTime, this.leaseTime);
	}

	/** How the result of the method is awaited. */
	enum Kind {

		/** Release when the method returns or throws. */
		SYNCHRONOUS,

		/** Release when the returned {@code CompletionStage} completes. */
		COMPLETION_STAGE,

		/** Acquire on subscription, release when the returned {@code Mono} completes, fails or is cancelled. */
		MONO,

		/** Acquire on subscription, release when the returned {@code Flux} completes, fails or is cancelled. */
		FLUX

	}

}
