package io.github.userlock.redis;

import java.util.concurrent.TimeUnit;

/**
 * One acquisition in Redis: the owner token and lease that every grant handed off from it
 * shares, what the watchdog knows of it and its verdict. A renewal answer applies to the
 * lease, so a hand-off while a renewal is in flight cannot lose the answer: the grant
 * that holds the lock when the answer comes is the one told.
 */
final class RedisLease {

	final String storeKey;

	final String owner;

	final long leaseMillis;

	/**
	 * Until when the lease is surely ours: when the last successful acquire or renew was
	 * sent, plus the validity.
	 */
	volatile long validUntilNanos;

	/** When the watchdog should renew next. */
	volatile long renewAtNanos;

	/** Whether a renewal is in flight; watchdog thread only. */
	boolean renewing;

	/** The grant that holds the lock now: the first one, then each one handed off to. */
	private volatile RedisGrant current;

	/** Set when Redis said the lease is no longer ours or it ran out unrenewed. */
	private volatile boolean lost;

	RedisLease(String storeKey, String owner, long leaseMillis, long sentAtNanos) {
		this.storeKey = storeKey;
		this.owner = owner;
		this.leaseMillis = leaseMillis;
		this.validUntilNanos = sentAtNanos + validityNanos();
		this.renewAtNanos = sentAtNanos + leaseNanos() / 3;
	}

	/** Sets the grant that holds the lock now (at acquisition and at each hand-off). */
	void holder(RedisGrant grant) {
		this.current = grant;
	}

	RedisGrant holder() {
		return this.current;
	}

	/**
	 * Marks the lease lost; the caller then reports {@link #holder()} lost. A hand-off
	 * checks {@link #isLost()} after setting the new holder, so one of the two always
	 * reports the grant that holds the lock.
	 */
	void markLost() {
		this.lost = true;
	}

	boolean isLost() {
		return this.lost;
	}

	/** Whether the lease is neither lost nor past its validity. */
	boolean isValid() {
		return !this.lost && System.nanoTime() - this.validUntilNanos < 0;
	}

	/**
	 * How long after sending an acquire or renewal the lock is surely still ours: the
	 * lease less a margin for clock drift and scheduling (1% of the lease plus 2 ms, as
	 * Redlock implementations use), so that a loss is reported before Redis can expire
	 * the key and another instance can take it.
	 */
	long validityNanos() {
		long lease = leaseNanos();
		long drift = Math.min(lease / 100 + TimeUnit.MILLISECONDS.toNanos(2), lease / 2);
		return lease - drift;
	}

	long leaseNanos() {
		return TimeUnit.MILLISECONDS.toNanos(this.leaseMillis);
	}

	/** Records a renewal that Redis confirmed; {@code sentAt} is when it was sent. */
	void renewed(long sentAt) {
		this.validUntilNanos = sentAt + validityNanos();
		this.renewAtNanos = sentAt + leaseNanos() / 3;
	}

}
