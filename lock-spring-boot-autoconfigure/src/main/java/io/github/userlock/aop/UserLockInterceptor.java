package io.github.userlock.aop;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import io.github.userlock.LockHandle;
import io.github.userlock.LockRegistry;
import io.github.userlock.support.AbstractLockRegistry;
import io.github.userlock.support.LockCaller;
import io.github.userlock.support.LockKeys;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.aop.framework.AopProxyUtils;

/**
 * Runs a {@code @UserLock} method under its locks: resolve the keys, acquire them in
 * sorted order, proceed, release them in reverse order. Nothing runs when a key is
 * invalid or a lock is not acquired.
 */
final class UserLockInterceptor implements MethodInterceptor {

	private static final Logger logger = LoggerFactory.getLogger(UserLockInterceptor.class);

	private final Supplier<LockRegistry> registry;

	private final LockOperations operations;

	UserLockInterceptor(Supplier<LockRegistry> registry, LockOperations operations) {
		this.registry = registry;
		this.operations = operations;
	}

	@Override
	public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
		Object target = invocation.getThis();
		Class<?> targetClass = (target != null) ? AopProxyUtils.ultimateTargetClass(target)
				: invocation.getMethod().getDeclaringClass();
		LockOperation operation = this.operations.get(invocation.getMethod(), targetClass);
		if (operation == null) {
			return invocation.proceed();
		}
		List<String> keys = keys(operation, invocation.getArguments(), target, targetClass);
		return switch (operation.kind()) {
			case SYNCHRONOUS -> invokeSynchronous(invocation, operation, keys);
			case COMPLETION_STAGE -> invokeCompletionStage(invocation, operation, keys);
			case MONO -> ReactorSupport.mono(this, invocation, operation, keys);
			case FLUX -> ReactorSupport.flux(this, invocation, operation, keys);
		};
	}

	private @Nullable Object invokeSynchronous(MethodInvocation invocation, LockOperation operation, List<String> keys)
			throws Throwable {
		List<LockHandle> handles = acquireAll(operation, keys);
		try {
			return invocation.proceed();
		}
		finally {
			releaseAll(handles, operation.holdAtLeast());
		}
	}

	private @Nullable Object invokeCompletionStage(MethodInvocation invocation, LockOperation operation,
			List<String> keys) throws Throwable {
		List<LockHandle> handles = acquireAll(operation, keys);
		Object result;
		try {
			result = invocation.proceed();
		}
		catch (Throwable ex) {
			releaseAll(handles, operation.holdAtLeast());
			throw ex;
		}
		if (result == null) {
			releaseAll(handles, operation.holdAtLeast());
			return null;
		}
		CompletionStage<?> stage = (CompletionStage<?>) result;
		// the lock now belongs to the asynchronous work, not to this thread: a second
		// call
		// from this thread must wait for it instead of re-entering
		handles.forEach(LockHandle::detachFromThread);
		CompletionStage<?> released = stage.whenComplete((value, ex) -> releaseAll(handles, operation.holdAtLeast()));
		// the dependent stage completes only after the release, so a caller that waits
		// for it and then calls
		// again finds the lock free; when it is not of the declared type, the release
		// still follows completion
		return operation.method().getReturnType().isInstance(released) ? released : result;
	}

	/** Sorted, distinct, valid keys: all checked before the first lock call. */
	private List<String> keys(LockOperation operation, @Nullable Object[] args, @Nullable Object target,
			Class<?> targetClass) {
		Collection<String> resolved = this.operations.keyResolver()
			.resolveKeys(operation.keys(), operation.method(), args, target, targetClass);
		String where = SpelLockKeyResolver.describe(operation.method());
		if (resolved == null || resolved.isEmpty()) {
			throw new IllegalArgumentException("@UserLock on " + where + " resolved no key");
		}
		LockRegistry registry = this.registry.get();
		TreeSet<String> keys = new TreeSet<>();
		for (String key : resolved) {
			if (key == null || key.isBlank()) {
				throw new IllegalArgumentException("@UserLock on " + where + " resolved a null or blank key");
			}
			if (registry instanceof AbstractLockRegistry local) {
				LockKeys.validate(key, local.getMaxKeyBytes());
			}
			keys.add(key);
		}
		return List.copyOf(keys);
	}

	/**
	 * Acquires every key in order; on any failure releases those already held and
	 * rethrows. With an explicit or known default wait time, all keys together wait no
	 * longer than it.
	 */
	List<LockHandle> acquireAll(LockOperation operation, List<String> keys) {
		LockRegistry registry = this.registry.get();
		Duration wait = operation.waitTime();
		if (wait == null && keys.size() > 1 && registry instanceof AbstractLockRegistry local) {
			wait = local.getDefaultWaitTime();
		}
		long start = System.nanoTime();
		List<LockHandle> handles = new ArrayList<>(keys.size());
		// observers (the loss WARN) name the method that holds the lock
		Method previousCaller = LockCaller.set(operation.method());
		try {
			for (String key : keys) {
				Duration remaining = (wait != null && !handles.isEmpty())
						? maxZero(wait.minusNanos(System.nanoTime() - start)) : wait;
				handles.add(registry.acquire(operation.request(key, remaining)));
			}
			return handles;
		}
		catch (RuntimeException | Error ex) {
			releaseAll(handles, Duration.ZERO);
			throw ex;
		}
		finally {
			LockCaller.restore(previousCaller);
		}
	}

	/**
	 * {@link #acquireAll} without blocking: the locks of {@code keys}, in order, through
	 * the registry's asynchronous API.
	 */
	CompletableFuture<List<LockHandle>> acquireAllAsync(LockOperation operation, List<String> keys) {
		LockRegistry registry = this.registry.get();
		Duration wait = operation.waitTime();
		if (wait == null && keys.size() > 1 && registry instanceof AbstractLockRegistry local) {
			wait = local.getDefaultWaitTime();
		}
		return AsyncLocks.acquire(registry, operation, keys, wait);
	}

	/**
	 * Releases in reverse order of acquisition; a failing release does not stop the
	 * others.
	 */
	void releaseAll(List<LockHandle> handles, Duration holdAtLeast) {
		for (int i = handles.size() - 1; i >= 0; i--) {
			LockHandle handle = handles.get(i);
			try {
				if (holdAtLeast.isZero()) {
					handle.release();
				}
				else {
					handle.release(holdAtLeast);
				}
			}
			catch (RuntimeException ex) {
				logger.warn("Releasing lock '{}' failed; its lease will end it", handle.key(), ex);
			}
		}
	}

	static Duration maxZero(Duration duration) {
		return duration.isNegative() ? Duration.ZERO : duration;
	}

}
