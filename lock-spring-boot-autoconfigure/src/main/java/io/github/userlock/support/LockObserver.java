package io.github.userlock.support;

import java.util.List;

import io.github.userlock.LockInterruptedException;
import io.github.userlock.LockRequest;
import io.github.userlock.LockUnavailableException;
import org.jspecify.annotations.Nullable;

/**
 * Watches what a registry does, for metrics, traces, logs and the list of held locks.
 * Every method has a no-op default. The registry calls them on the thread where the event
 * happens (the caller's for acquires and releases, its own threads for losses and
 * renewals): return quickly and never throw.
 *
 * <p>
 * A context returned by {@link #acquireStarted} or {@link #lockHeld} is handed back to
 * the later calls about the same acquire or the same hold, so that an observer need not
 * keep a map of its own.
 */
public interface LockObserver {

	/** Observes nothing. */
	LockObserver NONE = new LockObserver() {
	};

	/**
	 * An acquire call starts, on the calling thread, before any wait. Returns a context
	 * for {@link #acquireFinished}, or {@code null}.
	 * @param request the request being acquired
	 * @return a context for the later calls, or {@code null}
	 */
	default @Nullable Object acquireStarted(LockRequest request) {
		return null;
	}

	/**
	 * The acquire call ended, on the calling thread.
	 * @param request the request that was acquired
	 * @param outcome how it ended
	 * @param waitNanos how long the caller waited, including the store's answers, counted
	 * from when {@link #acquireStarted} returned
	 * @param failure the exception the call throws, if any (none for a conflict of
	 * {@code tryAcquire})
	 * @param context what {@link #acquireStarted} returned
	 */
	default void acquireFinished(LockRequest request, AcquireOutcome outcome, long waitNanos,
			@Nullable Throwable failure, @Nullable Object context) {
	}

	/**
	 * This process now holds {@code grant} (a first acquisition or a hand-off, not a
	 * re-entrant one), on the holder's thread. Returns a context for the later calls
	 * about this hold, or {@code null}.
	 * @param request the request that was acquired
	 * @param grant the grant now held
	 * @return a context for the later calls about this hold, or {@code null}
	 */
	default @Nullable Object lockHeld(LockRequest request, LockGrant grant) {
		return null;
	}

	/**
	 * The hold was handed over from its thread to asynchronous work.
	 * @param grant the grant held
	 * @param context what {@link #lockHeld} returned
	 */
	default void lockDetached(LockGrant grant, @Nullable Object context) {
	}

	/**
	 * The hold ends: the last handle of {@code grant} is being released.
	 * @param grant the grant being released
	 * @param context what {@link #lockHeld} returned
	 */
	default void lockReleased(LockGrant grant, @Nullable Object context) {
	}

	/**
	 * The lock of {@code grant} was found lost, while held or at its release.
	 * {@code context} is {@code null} for a grant that was never held by a caller.
	 * @param grant the grant that was lost
	 * @param phase when the loss was found
	 * @param context what {@link #lockHeld} returned, or {@code null}
	 */
	default void lockLost(LockGrant grant, LossPhase phase, @Nullable Object context) {
	}

	/**
	 * The watchdog sent one renewal call to the store for {@code locks} locks.
	 * @param locks the number of locks the call renews
	 */
	default void renewalCall(int locks) {
	}

	/**
	 * The store answered (or failed to answer) a renewal of {@code locks} locks.
	 * @param outcome what the store said
	 * @param locks the number of locks with that outcome
	 */
	default void renewals(RenewalOutcome outcome, int locks) {
	}

	/**
	 * One observer that calls each of {@code observers} in turn, each with its own
	 * context; a failing observer does not stop the others. No observer gives
	 * {@link #NONE}, a single one is returned as it is (nothing to keep apart).
	 * @param observers the observers to call
	 * @return an observer that calls all of {@code observers}
	 */
	static LockObserver composite(List<? extends LockObserver> observers) {
		if (observers.isEmpty()) {
			return NONE;
		}
		if (observers.size() == 1) {
			return observers.get(0);
		}
		return new CompositeLockObserver(observers);
	}

	/** How an acquire call ended. */
	enum AcquireOutcome {

		/** The lock was acquired (or re-entered). */
		ACQUIRED,

		/** Someone else still held it when the wait time ran out. */
		CONFLICT,

		/** The store could not be reached in time ({@link LockUnavailableException}). */
		UNAVAILABLE,

		/** The waiting thread was interrupted ({@link LockInterruptedException}). */
		INTERRUPTED,

		/** Any other failure, such as an invalid key. */
		ERROR;

		/**
		 * The outcome of a call that threw {@code failure}.
		 * @param failure the exception the call threw
		 * @return the outcome that {@code failure} stands for, {@link #ERROR} for any
		 * other
		 */
		public static AcquireOutcome of(Throwable failure) {
			if (failure instanceof LockUnavailableException) {
				return UNAVAILABLE;
			}
			if (failure instanceof LockInterruptedException) {
				return INTERRUPTED;
			}
			if (failure instanceof io.github.userlock.LockConflictException) {
				return CONFLICT;
			}
			return ERROR;
		}

		/**
		 * The lower-case name, as a tag value.
		 * @return the name in lower case
		 */
		public String value() {
			return name().toLowerCase(java.util.Locale.ROOT);
		}

	}

	/** When a loss was found. */
	enum LossPhase {

		/** Reported while the lock was held (lease ran out or taken over). */
		HELD,

		/** Found by the release: the lock was no longer ours. */
		RELEASE;

		/**
		 * The lower-case name, as a tag value.
		 * @return the name in lower case
		 */
		public String value() {
			return name().toLowerCase(java.util.Locale.ROOT);
		}

	}

	/** What the store said to a renewal. */
	enum RenewalOutcome {

		/** The lease was extended. */
		RENEWED,

		/** The lock was no longer ours. */
		LOST,

		/** The call failed or timed out; it is retried until the lease runs out. */
		FAILED;

		/**
		 * The lower-case name, as a tag value.
		 * @return the name in lower case
		 */
		public String value() {
			return name().toLowerCase(java.util.Locale.ROOT);
		}

	}

}
