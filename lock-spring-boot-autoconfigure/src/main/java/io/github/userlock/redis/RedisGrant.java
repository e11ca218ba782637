package io.github.userlock.redis;

import java.time.Duration;

import io.github.userlock.support.LockGrant;

/**
 * A lock held in Redis by one thread (or handle) of this process: its fencing token and
 * the {@link RedisLease} it shares with the grants handed off from the same acquisition.
 */
final class RedisGrant extends LockGrant {

	final RedisLease lease;

	/** How many more local hand-offs this acquisition's reserved tokens allow. */
	final int handOffsLeft;

	RedisGrant(String key, RedisLease lease, long token, long acquiredAtNanos, int handOffsLeft) {
		super(key, lease.storeKey, token, acquiredAtNanos);
		this.lease = lease;
		this.handOffsLeft = handOffsLeft;
	}

	@Override
	public boolean isValid() {
		return super.isValid() && this.lease.isValid();
	}

	/**
	 * Until when Redis keeps the key at the latest: the last confirmed renewal plus the
	 * lease.
	 */
	@Override
	public Duration leaseRemaining() {
		long end = this.lease.validUntilNanos - this.lease.validityNanos() + this.lease.leaseNanos();
		return Duration.ofNanos(Math.max(0, end - System.nanoTime()));
	}

}
