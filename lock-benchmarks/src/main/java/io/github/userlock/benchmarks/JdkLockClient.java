package io.github.userlock.benchmarks;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;

import org.jspecify.annotations.Nullable;

/**
 * A {@link LockClient} for a library whose locks are {@link Lock}s (Redisson's
 * {@code RLock}, Spring Integration's registry locks): {@code tryLock} with and without a
 * wait, {@code unlock} to release, no fencing token.
 */
abstract class JdkLockClient implements LockClient {

	/** The library's lock object for {@code key}. */
	abstract Lock lock(String key);

	@Override
	public @Nullable Held acquire(String key, Duration waitTime) throws InterruptedException {
		Lock lock = lock(key);
		return lock.tryLock(waitTime.toMillis(), TimeUnit.MILLISECONDS) ? held(lock) : null;
	}

	@Override
	public @Nullable Held tryAcquire(String key) {
		Lock lock = lock(key);
		return lock.tryLock() ? held(lock) : null;
	}

	private static Held held(Lock lock) {
		return new Held() {

			@Override
			public void release() {
				lock.unlock();
			}

			@Override
			public long token() {
				return -1;
			}

		};
	}

}
