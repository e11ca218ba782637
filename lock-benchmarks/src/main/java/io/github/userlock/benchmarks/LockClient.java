package io.github.userlock.benchmarks;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * One "instance" of a lock library: its own client and its own Redis connections, as a
 * separate application instance would have. Every library under test is driven only
 * through this interface.
 */
interface LockClient extends AutoCloseable {

	/**
	 * Acquires {@code key}, waiting up to {@code waitTime}; {@code null} when still held
	 * by someone else.
	 */
	@Nullable Held acquire(String key, Duration waitTime) throws InterruptedException;

	/**
	 * Acquires {@code key} only if free, without waiting; {@code null} when held by
	 * someone else.
	 */
	@Nullable Held tryAcquire(String key);

	/** Closes the client and its connections. */
	@Override
	void close();

	/**
	 * An acquired lock. The peers require the acquiring thread to release it, so every
	 * scenario does.
	 */
	interface Held {

		/** Releases the lock. */
		void release();

		/**
		 * The fencing token of this acquisition, or {@code -1} when the library has none.
		 */
		long token();

	}

}
