package io.github.userlock.benchmarks;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.function.Function;

/**
 * Spring Integration's {@code RedisLockRegistry} as its users get it (see
 * {@link SpringIntegrationInstance}): the version Boot manages, from the benchmark's own
 * class path, or the newest 7.1.x with its own Boot, from
 * {@link IsolatedSpringIntegration}. Both are driven through the same interface.
 */
final class SpringIntegrationLockClient extends JdkLockClient {

	/** An application without our starter. */
	static final String EXCLUDE_OUR_STARTER = "io.github.userlock.autoconfigure.LockAutoConfiguration";

	private final Function<String, Lock> locks;

	private final AutoCloseable instance;

	SpringIntegrationLockClient(ClientSettings settings, boolean newest, String lockType) {
		Map<String, String> properties = new LinkedHashMap<>();
		properties.put("spring.data.redis.host", settings.host());
		properties.put("spring.data.redis.port", Integer.toString(settings.port()));
		if (newest) {
			Object opened = IsolatedSpringIntegration.open(properties, settings.lease().toMillis(), lockType,
					settings.renewal());
			@SuppressWarnings("unchecked")
			Function<String, Lock> function = (Function<String, Lock>) opened;
			ClassLoader isolated = IsolatedSpringIntegration.classLoader();
			this.locks = (key) -> new ContextLock(function.apply(key), isolated);
			this.instance = (AutoCloseable) opened;
		}
		else {
			properties.put("spring.autoconfigure.exclude", EXCLUDE_OUR_STARTER);
			SpringIntegrationInstance opened = SpringIntegrationInstance.open(properties, settings.lease().toMillis(),
					lockType, settings.renewal());
			this.locks = opened;
			this.instance = opened;
		}
	}

	@Override
	Lock lock(String key) {
		return this.locks.apply(key);
	}

	@Override
	public void close() {
		try {
			this.instance.close();
		}
		catch (Exception ex) {
			System.err.println("closing a Spring Integration instance failed: " + ex);
		}
	}

	/**
	 * A lock of the isolated Spring Integration whose calls run with its class loader as
	 * the thread's context class loader, as in an application of its own (Lettuce and
	 * Netty look up services through it when they connect).
	 */
	private record ContextLock(Lock delegate, ClassLoader loader) implements Lock {

		@Override
		public void lock() {
			ClassLoader previous = enter();
			try {
				this.delegate.lock();
			}
			finally {
				Thread.currentThread().setContextClassLoader(previous);
			}
		}

		@Override
		public void lockInterruptibly() throws InterruptedException {
			ClassLoader previous = enter();
			try {
				this.delegate.lockInterruptibly();
			}
			finally {
				Thread.currentThread().setContextClassLoader(previous);
			}
		}

		@Override
		public boolean tryLock() {
			ClassLoader previous = enter();
			try {
				return this.delegate.tryLock();
			}
			finally {
				Thread.currentThread().setContextClassLoader(previous);
			}
		}

		@Override
		public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
			ClassLoader previous = enter();
			try {
				return this.delegate.tryLock(time, unit);
			}
			finally {
				Thread.currentThread().setContextClassLoader(previous);
			}
		}

		@Override
		public void unlock() {
			ClassLoader previous = enter();
			try {
				this.delegate.unlock();
			}
			finally {
				Thread.currentThread().setContextClassLoader(previous);
			}
		}

		@Override
		public Condition newCondition() {
			return this.delegate.newCondition();
		}

		private ClassLoader enter() {
			Thread thread = Thread.currentThread();
			ClassLoader previous = thread.getContextClassLoader();
			thread.setContextClassLoader(this.loader);
			return previous;
		}

	}

}
