package io.github.userlock.redis;

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

}
