package io.github.userlock.support;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * "Held by another process" answers of the store, kept for the no-wait calls of this
 * process that come after them, for engines that share them (see
 * {@link AbstractLockRegistry#sharesHeldAnswers()}): each until the release of its key is
 * signalled, the holder's lease could have run out or the retry interval passed. Bounded
 * by {@link #MAX_ANSWERS}.
 */
final class HeldAnswers {

	/** The most answers kept; beyond it they are all dropped. */
	static final int MAX_ANSWERS = 4096;

	/** Store key to until when ({@code nanoTime}) its answer may be shared. */
	private final ConcurrentHashMap<String, Long> heldUntil = new ConcurrentHashMap<>();

	/** Counts release signals, so that an answer older than one is not kept. */
	private final AtomicLong signals = new AtomicLong();

	/** Whether a shared answer says another process holds {@code storeKey} now. */
	boolean isHeldElsewhere(String storeKey) {
		Long until = this.heldUntil.get(storeKey);
		return until != null && until - System.nanoTime() > 0;
	}

	/** The release signals so far: read before an attempt, passed to {@link #share}. */
	long signals() {
		return this.signals.get();
	}

	/**
	 * Keeps a "held" answer for {@code validNanos}, unless a release signal came since
	 * the attempt was sent ({@code signalsBefore}): it may be newer than the answer.
	 */
	void share(String storeKey, long validNanos, long signalsBefore) {
		if (this.heldUntil.size() >= MAX_ANSWERS) {
			this.heldUntil.clear();
		}
		this.heldUntil.put(storeKey, System.nanoTime() + validNanos);
		if (this.signals.get() != signalsBefore) {
			// a release may have been signalled between the answer and now
			this.heldUntil.remove(storeKey);
		}
	}

	/** This process took {@code storeKey}: no answer about it stands. */
	void granted(String storeKey) {
		this.heldUntil.remove(storeKey);
	}

	/** The release of {@code storeKey} was signalled. */
	void released(String storeKey) {
		this.signals.incrementAndGet();
		this.heldUntil.remove(storeKey);
	}

	/** Every release may have been missed (a re-subscription): no answer stands. */
	void releasedAll() {
		this.signals.incrementAndGet();
		this.heldUntil.clear();
	}

}
