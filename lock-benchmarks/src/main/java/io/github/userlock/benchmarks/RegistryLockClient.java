package io.github.userlock.benchmarks;

import java.time.Duration;
import java.util.Optional;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockHandle;
import io.github.userlock.LockRegistry;
import io.github.userlock.LockRequest;
import org.jspecify.annotations.Nullable;

/**
 * A {@link LockClient} on one of this project's {@link LockRegistry registries}, however
 * it was built (the starter's bean, or the builder on a bare client).
 */
abstract class RegistryLockClient implements LockClient {

	private final LockRegistry registry;

	RegistryLockClient(LockRegistry registry) {
		this.registry = registry;
	}

	@Override
	public final @Nullable Held acquire(String key, Duration waitTime) {
		try {
			return held(this.registry.acquire(LockRequest.of(key).withWaitTime(waitTime)));
		}
		catch (LockConflictException ex) {
			return null;
		}
	}

	@Override
	public final @Nullable Held tryAcquire(String key) {
		Optional<LockHandle> handle = this.registry.tryAcquire(key);
		return handle.map(RegistryLockClient::held).orElse(null);
	}

	private static Held held(LockHandle handle) {
		return new Held() {

			@Override
			public void release() {
				handle.release();
			}

			@Override
			public long token() {
				return handle.fencingToken();
			}

		};
	}

}
