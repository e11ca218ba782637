package io.github.userlock.support;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
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

	/** Asynchronous acquisitions waiting for the next signal; guarded by signalLock. */
	private final List<Runnable> watchers = new ArrayList<>(0);

	LocalKey(String storeKey) {
		this.storeKey = storeKey;
	}

	long version() {
		return this.signals;
	}

	void signal() {
		List<Runnable> woken = null;
		this.signalLock.lock();
		try {
			this.signals++;
			this.signalled.signalAll();
			if (!this.watchers.isEmpty()) {
				woken = new ArrayList<>(this.watchers);
				this.watchers.clear();
			}
		}
		finally {
			this.signalLock.unlock();
		}
		if (woken != null) {
			woken.forEach(Runnable::run);
		}
	}

	/**
	 * Runs {@code watcher} on the next signal, unless one came since {@code version}:
	 * then returns {@code false} and does not keep it. The watcher must not block.
	 */
	boolean watch(long version, Runnable watcher) {
		this.signalLock.lock();
		try {
			if (this.signals != version) {
				return false;
			}
			this.watchers.add(watcher);
			return true;
		}
		finally {
			this.signalLock.unlock();
		}
	}

	/** Forgets a watcher that no longer waits. */
	void unwatch(Runnable watcher) {
		this.signalLock.lock();
		try {
			this.watchers.remove(watcher);
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
