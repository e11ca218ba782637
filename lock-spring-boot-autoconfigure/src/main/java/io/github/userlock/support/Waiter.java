package io.github.userlock.support;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * A thread, or an asynchronous acquisition, waiting for its turn on a key; fields guarded
 * by the key's {@link LocalKey}.
 */
final class Waiter {

	/** The waiting thread, or {@code null} for an asynchronous acquisition. */
	final @Nullable Thread thread;

	/** The asynchronous acquisition, or {@code null} for a waiting thread. */
	final @Nullable AsyncAcquisition<?> async;

	final Duration lease;

	boolean granted;

	@Nullable LockGrant handOff;

	/** Signal version to wait past before trying the store, or -1. */
	long yieldFrom = -1;

	Waiter(Thread thread, Duration lease) {
		this.thread = thread;
		this.async = null;
		this.lease = lease;
	}

	Waiter(AsyncAcquisition<?> async, Duration lease) {
		this.thread = null;
		this.async = async;
		this.lease = lease;
	}

}
