package io.github.userlock.benchmarks;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;
import org.redisson.Redisson;
import org.redisson.api.RLock;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * Redisson {@code RLock} in watchdog mode: {@code tryLock(wait)} and {@code tryLock()}
 * without a lease time, so that Redisson renews the lease every
 * {@code lockWatchdogTimeout / 3}. Default connection pool.
 */
final class RedissonLockClient implements LockClient {

	private final RedissonClient redisson;

	RedissonLockClient(ClientSettings settings) {
		Config config = new Config();
		config.setLockWatchdogTimeout(settings.lease().toMillis());
		config.useSingleServer().setAddress(settings.uri());
		this.redisson = Redisson.create(config);
	}

	@Override
	public @Nullable Held acquire(String key, Duration waitTime) throws InterruptedException {
		RLock lock = this.redisson.getLock(key);
		return lock.tryLock(waitTime.toMillis(), TimeUnit.MILLISECONDS) ? held(lock) : null;
	}

	@Override
	public @Nullable Held tryAcquire(String key) {
		RLock lock = this.redisson.getLock(key);
		return lock.tryLock() ? held(lock) : null;
	}

	private static Held held(RLock lock) {
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

	@Override
	public void close() {
		this.redisson.shutdown(0, 2, TimeUnit.SECONDS);
	}

}
