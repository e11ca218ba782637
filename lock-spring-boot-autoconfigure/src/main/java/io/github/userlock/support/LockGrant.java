package io.github.userlock.support;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * One acquisition in the store, shared by the outer handle and its re-entrant handles.
 * Engines subclass it to keep what they need to renew and release (owner token, lease).
 */
public class LockGrant {

	private final String key;

	private final String storeKey;

	private final long fencingToken;

	private final long acquiredAtNanos;

	private volatile boolean lost;

	private volatile @Nullable Object observerContext;

	private final List<Runnable> lostCallbacks = new ArrayList<>(0);

	/**
	 * A grant of {@code key}, held in the store as {@code storeKey}.
	 * @param key the key as the caller named it
	 * @param storeKey the key in the store
	 * @param fencingToken the fencing token of this acquisition
	 * @param acquiredAtNanos {@link System#nanoTime()} when the acquire request was sent
	 */
	public LockGrant(String key, String storeKey, long fencingToken, long acquiredAtNanos) {
		this.key = key;
		this.storeKey = storeKey;
		this.fencingToken = fencingToken;
		this.acquiredAtNanos = acquiredAtNanos;
	}

	/**
	 * The key as the caller named it (with its namespace, if any).
	 * @return the key
	 */
	public final String key() {
		return this.key;
	}

	/**
	 * The key in the store.
	 * @return the store key
	 */
	public final String storeKey() {
		return this.storeKey;
	}

	/**
	 * The fencing token of this acquisition.
	 * @return the fencing token
	 */
	public final long fencingToken() {
		return this.fencingToken;
	}

	/**
	 * {@link System#nanoTime()} when the acquire request was sent.
	 * @return the acquire time, in {@link System#nanoTime()} units
	 */
	public final long acquiredAtNanos() {
		return this.acquiredAtNanos;
	}

	/**
	 * How long the store keeps the lock from now if it is not renewed, or {@code null}
	 * when the engine does not know (or the lock never expires).
	 * @return the remaining lease, or {@code null}
	 */
	public @Nullable Duration leaseRemaining() {
		return null;
	}

	/**
	 * What the registry's {@link LockObserver} keeps about this hold, if anything.
	 * @return the observer's context, or {@code null}
	 */
	public final @Nullable Object observerContext() {
		return this.observerContext;
	}

	final void observerContext(@Nullable Object context) {
		this.observerContext = context;
	}

	/**
	 * Whether the lock is still ours as far as this process can know.
	 * @return {@code true} unless the grant was marked lost
	 */
	public boolean isValid() {
		return !this.lost;
	}

	/**
	 * Whether the grant was marked lost.
	 * @return {@code true} once the lock was reported lost
	 */
	public final boolean isLost() {
		return this.lost;
	}

	/** Marks the grant lost; returns {@code false} when it already was. */
	final boolean markLost() {
		synchronized (this.lostCallbacks) {
			if (this.lost) {
				return false;
			}
			this.lost = true;
			return true;
		}
	}

	/** Runs, once, the callbacks registered before the grant was marked lost. */
	final void runLostCallbacks() {
		List<Runnable> toRun;
		synchronized (this.lostCallbacks) {
			toRun = new ArrayList<>(this.lostCallbacks);
			this.lostCallbacks.clear();
		}
		toRun.forEach(LockGrant::runQuietly);
	}

	final void onLost(Runnable callback) {
		synchronized (this.lostCallbacks) {
			if (!this.lost) {
				this.lostCallbacks.add(callback);
				return;
			}
		}
		runQuietly(callback);
	}

	private static void runQuietly(Runnable callback) {
		try {
			callback.run();
		}
		catch (RuntimeException ex) {
			org.slf4j.LoggerFactory.getLogger(LockGrant.class).warn("Lock-lost callback failed", ex);
		}
	}

}
