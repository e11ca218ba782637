package io.github.userlock.support;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
	 * Wake-up signals for parked threads: a java.util.concurrent lock, not the monitor,
	 * so that a virtual thread waiting for one does not pin its carrier (JDK 21 to 23).
	 * Taken by a signal only while a thread is parked on it, so that a signal on an event
	 * loop (the Pub/Sub listener) takes no lock when only asynchronous callers wait.
	 */
	private final ReentrantLock signalLock = new ReentrantLock();

	private final Condition signalled = this.signalLock.newCondition();

	private final AtomicLong signals = new AtomicLong();

	/** Threads parked in {@link #awaitSignal}. */
	private final AtomicInteger parked = new AtomicInteger();

	/** Asynchronous acquisitions waiting for the next signal; lock-free. */
	private final Queue<Runnable> watchers = new ConcurrentLinkedQueue<>();

	LocalKey(String storeKey) {
		this.storeKey = storeKey;
	}

	long version() {
		return this.signals.get();
	}

	void signal() {
		this.signals.incrementAndGet();
		// a thread that parks counts itself before it reads the version, and this reads
		// the count after the version changed: one of the two sees the other
		if (this.parked.get() > 0) {
			this.signalLock.lock();
			try {
				this.signalled.signalAll();
			}
			finally {
				this.signalLock.unlock();
			}
		}
		Runnable watcher;
		while ((watcher = this.watchers.poll()) != null) {
			watcher.run();
		}
	}

	/**
	 * Runs {@code watcher} on the next signal, unless one came since {@code version}:
	 * then returns {@code false} and does not keep it. The watcher must not block and may
	 * run more than once (it guards itself).
	 */
	boolean watch(long version, Runnable watcher) {
		if (this.signals.get() != version) {
			return false;
		}
		this.watchers.add(watcher);
		// a signal between the check and the add may have drained the queue before it
		return this.signals.get() == version || !this.watchers.remove(watcher);
	}

	/** Forgets a watcher that no longer waits. */
	void unwatch(Runnable watcher) {
		this.watchers.remove(watcher);
	}

	void awaitSignal(long version, long nanos) throws InterruptedException {
		long left = nanos;
		this.signalLock.lock();
		this.parked.incrementAndGet();
		try {
			while (this.signals.get() == version && left > 0) {
				left = this.signalled.awaitNanos(left);
			}
		}
		finally {
			this.parked.decrementAndGet();
			this.signalLock.unlock();
		}
	}

}
