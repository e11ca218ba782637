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
 * pipeline is protected too. Acquisition blocks the subscribing thread for up to the wait
 * time, like any blocking call in a pipeline; subscribe on
 * {@code Schedulers.boundedElastic()} when that thread must not block. The lock is
 * released when the result completes, fails or is cancelled. Once the method has returned
 * its publisher, the locks belong to the pipeline, not to the subscribing thread: a later
 * call from that thread for the same key waits for them (or gets a conflict) instead of
 * re-entering.
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
		return Mono.usingWhen(Mono.fromCallable(() -> interceptor.acquireAll(operation, keys)),
				(handles) -> Mono.from(proceed(invocation, handles)), release(interceptor, operation),
				(handles, error) -> release(interceptor, operation).apply(handles), release(interceptor, operation));
	}

	static Flux<?> flux(UserLockInterceptor interceptor, MethodInvocation invocation, LockOperation operation,
			List<String> keys) {
		return Flux.usingWhen(Mono.fromCallable(() -> interceptor.acquireAll(operation, keys)),
				(handles) -> proceed(invocation, handles), release(interceptor, operation),
				(handles, error) -> release(interceptor, operation).apply(handles), release(interceptor, operation));
	}

	private static Function<List<LockHandle>, Publisher<?>> release(UserLockInterceptor interceptor,
			LockOperation operation) {
		Duration holdAtLeast = operation.holdAtLeast();
		return (handles) -> Mono.fromRunnable(() -> interceptor.releaseAll(handles, holdAtLeast));
	}

	/**
	 * Invokes the method, then hands the locks over from the subscribing thread to the
	 * pipeline, so that a later call from that thread waits for them instead of
	 * re-entering while the pipeline still runs.
	 */
	private static Publisher<?> proceed(MethodInvocation invocation, List<LockHandle> handles) {
		try {
			return proceed(invocation);
		}
		finally {
			handles.forEach(LockHandle::detachFromThread);
		}
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
