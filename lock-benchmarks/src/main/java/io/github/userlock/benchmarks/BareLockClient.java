package io.github.userlock.benchmarks;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.jspecify.annotations.Nullable;

/**
 * What the floor rows share: a lock that is one set-if-absent call and one
 * compare-and-delete call per cycle, with a unique token per acquisition; a wait for a
 * held key retries every 100 µs. Subclasses only say how the two calls reach Redis.
 */
abstract class BareLockClient implements LockClient {

	/** The acquire script: sets the key to the token if absent, with the lease. */
	static final String ACQUIRE = "return redis.call('set', KEYS[1], ARGV[1], 'nx', 'px', ARGV[2])";

	/** The release script: deletes the key only if it still holds the token. */
	static final String RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then "
			+ "return redis.call('del', KEYS[1]) end return 0";

	private static final long RETRY_NANOS = TimeUnit.MICROSECONDS.toNanos(100);

	private final String instance = UUID.randomUUID().toString();

	private final AtomicLong sequence = new AtomicLong();

	/** Runs {@link #ACQUIRE}: whether {@code key} is now set to {@code token}. */
	abstract boolean setIfAbsent(String key, String token);

	/** Runs {@link #RELEASE} for {@code key} and {@code token}, awaiting the answer. */
	abstract void deleteIfOwner(String key, String token);

	@Override
	public @Nullable Held acquire(String key, Duration waitTime) throws InterruptedException {
		long deadline = System.nanoTime() + waitTime.toNanos();
		for (;;) {
			Held held = tryAcquire(key);
			if (held != null) {
				return held;
			}
			if (System.nanoTime() - deadline >= 0) {
				return null;
			}
			LockSupport.parkNanos(RETRY_NANOS);
			if (Thread.interrupted()) {
				throw new InterruptedException();
			}
		}
	}

	@Override
	public @Nullable Held tryAcquire(String key) {
		String token = this.instance + ':' + this.sequence.incrementAndGet();
		if (!setIfAbsent(key, token)) {
			return null;
		}
		return new Held() {

			@Override
			public void release() {
				deleteIfOwner(key, token);
			}

			@Override
			public long token() {
				return -1;
			}

		};
	}

}
