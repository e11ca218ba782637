package io.github.userlock.support;

import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.jspecify.annotations.Nullable;

/** Local state of one key; lives while {@link #users} is above zero. */
final class LocalKey {

	final String storeKey;

	/** Guarded by the map's compute lock. */
	int users;

	// guarded by this

	/**
	 * Whether a thread of this process holds the key or is acquiring it in the store.
	 */
	boolean busy;

	/** Threads of this process waiting for their turn, first come first served. */
	final ArrayDeque<Waiter> queue = new ArrayDeque<>(2);

	@Nullable Thread owner;

	@Nullable LockGrant grant;

	int holds;

	long keepUntilNanos;

	/**
	 * Wake-up signals: a java.util.concurrent lock, not the monitor, so that a virtual
	 * thread waiting for one does not pin its carrier (JDK 21 to 23).
	 */
	private final ReentrantLock signalLock = new ReentrantLock();

	private final Condition signalled = this.signalLock.newCondition();

	private volatile long signals;

	LocalKey(String storeKey) {
		this.storeKey = storeKey;
	}

	long version() {
		return this.signals;
	}

	void signal() {
		this.signalLock.lock();
		try {
			this.signals++;
			this.signalled.signalAll();
		}
		finally {
			this.signalLock.unlock();
		}
	}

	void awaitSignal(long version, long nanos) throws InterruptedException {
		long left = nanos;
		this.signalLock.lock();
		try {
			while (this.signals == version && left > 0) {
				left = this.signalled.awaitNanos(left);
			}
		}
		finally {
			this.signalLock.unlock();
		}
	}

}
