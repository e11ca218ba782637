package io.github.userlock.aop;

import java.time.Duration;
import java.util.List;
import java.util.function.Function;

import io.github.userlock.LockHandle;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.aop.ProxyMethodInvocation;

/**
 * Locking around Reactor types, loaded only when Reactor is on the classpath.
 *
 * <p>
 * The lock is acquired when the result is subscribed to, not when the method is called: a
 * {@code Mono} that is never subscribed to then never holds a lock it could not release,
 * and each subscription (a retry, say) locks again. The method itself is also invoked at
 * subscription, after the lock is held, so that work it does while assembling the
 * pipeline is protected too. Nothing blocks: the locks are taken and released through the
 * registry's asynchronous API ({@link io.github.userlock.LockRegistry#acquireAsync},
 * {@link LockHandle#releaseAsync}), so the subscribing thread may be an event loop; the
 * method runs on the thread that completed the acquisition (the Redis driver's I/O
 * thread, the registry's timer thread, or the subscribing thread when the lock was free
 * in memory). The lock is released when the result completes, fails or is cancelled (also
 * during acquisition). The locks belong to the pipeline, not to a thread: a call for the
 * same key, from any thread, waits for them (or gets a conflict) instead of re-entering.
 * The subscriber's {@code Context} reaches the method's publisher.
 */
final class ReactorSupport {

	private ReactorSupport() {
	}

	static LockOperation.@Nullable Kind kind(Class<?> type) {
		if (Mono.class.isAssignableFrom(type)) {
			return LockOperation.Kind.MONO;
		}
		if (Flux.class.isAssignableFrom(type) || type.isAssignableFrom(Flux.class)) {
			return LockOperation.Kind.FLUX;
		}
		return null;
	}

	static Mono<?> mono(UserLockInterceptor interceptor, MethodInvocation invocation, LockOperation operation,
			List<String> keys) {
		return Mono.usingWhen(acquire(interceptor, operation, keys), (handles) -> Mono.from(proceed(invocation)),
				release(operation), (handles, error) -> release(operation).apply(handles), release(operation));
	}

	static Flux<?> flux(UserLockInterceptor interceptor, MethodInvocation invocation, LockOperation operation,
			List<String> keys) {
		return Flux.usingWhen(acquire(interceptor, operation, keys), (handles) -> proceed(invocation),
				release(operation), (handles, error) -> release(operation).apply(handles), release(operation));
	}

	/**
	 * The locks, acquired without blocking on subscription; cancelling the subscription
	 * during acquisition cancels it and releases what was taken.
	 */
	private static Mono<List<LockHandle>> acquire(UserLockInterceptor interceptor, LockOperation operation,
			List<String> keys) {
		return Mono.fromFuture(() -> interceptor.acquireAllAsync(operation, keys), false);
	}

	private static Function<List<LockHandle>, Publisher<?>> release(LockOperation operation) {
		Duration holdAtLeast = operation.holdAtLeast();
		return (handles) -> Mono.fromFuture(() -> AsyncLocks.releaseAll(handles, holdAtLeast), true);
	}

	private static Publisher<?> proceed(MethodInvocation invocation) {
		try {
			// a clone per subscription, so that a re-subscription runs the rest of the
			// chain again
			MethodInvocation call = (invocation instanceof ProxyMethodInvocation proxyInvocation)
					? proxyInvocation.invocableClone() : invocation;
			Object result = call.proceed();
			return (result != null) ? (Publisher<?>) result : Mono.empty();
		}
		catch (Throwable ex) {
			return Mono.error(ex);
		}
	}

}
