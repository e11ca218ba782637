package io.github.userlock.support;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import io.github.userlock.LockListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a registry's listeners and lost-callbacks on one event thread
 * ({@code user-lock-events}), one at a time in the order of the events, off the threads
 * that detect them (the watchdog, Redis I/O): a slow callback delays other callbacks,
 * never a renewal or a lock call. The thread ends when idle and starts again with the
 * next event; once closed, events run on the thread that reports them.
 */
final class LockEvents {

	private static final Logger logger = LoggerFactory.getLogger(LockEvents.class);

	private final CopyOnWriteArrayList<LockListener> listeners = new CopyOnWriteArrayList<>();

	private final ThreadPoolExecutor executor;

	LockEvents() {
		this.executor = new ThreadPoolExecutor(1, 1, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), (runnable) -> {
			Thread thread = new Thread(runnable, "user-lock-events");
			thread.setDaemon(true);
			return thread;
		});
		this.executor.allowCoreThreadTimeOut(true);
	}

	void addListener(LockListener listener) {
		this.listeners.add(listener);
	}

	/** A held lock was lost: listeners, then the grant's lost-callbacks. */
	void lostWhileHeld(LockGrant grant) {
		dispatch(() -> {
			for (LockListener listener : this.listeners) {
				try {
					listener.lockLost(grant.key(), grant.fencingToken());
				}
				catch (RuntimeException ex) {
					logger.warn("LockListener failed", ex);
				}
			}
			grant.runLostCallbacks();
		});
	}

	/**
	 * A release found the lock lost: the grant's lost-callbacks (when this marked it
	 * lost), then listeners.
	 */
	void lostBeforeRelease(LockGrant grant, boolean newlyLost) {
		dispatch(() -> {
			if (newlyLost) {
				grant.runLostCallbacks();
			}
			for (LockListener listener : this.listeners) {
				try {
					listener.lostBeforeRelease(grant.key(), grant.fencingToken());
				}
				catch (RuntimeException ex) {
					logger.warn("LockListener failed", ex);
				}
			}
		});
	}

	/** Lets the events already reported run, then stops the thread. */
	void close() {
		this.executor.shutdown();
	}

	private void dispatch(Runnable event) {
		try {
			this.executor.execute(event);
		}
		catch (RejectedExecutionException ex) {
			event.run();
		}
	}

}
