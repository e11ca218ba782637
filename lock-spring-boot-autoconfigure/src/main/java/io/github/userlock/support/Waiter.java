package io.github.userlock.support;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * A thread waiting for its turn on a key; fields guarded by the key's {@link LocalKey}.
 */
final class Waiter {

	final Thread thread;

	final Duration lease;

	boolean granted;

	@Nullable LockGrant handOff;

	/** Signal version to wait past before trying the store, or -1. */
	long yieldFrom = -1;

	Waiter(Thread thread, Duration lease) {
		this.thread = thread;
		this.lease = lease;
	}

}
