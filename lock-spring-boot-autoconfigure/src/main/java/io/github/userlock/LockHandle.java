package io.github.userlock;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One acquisition of a lock. Release it exactly once, from any thread (an asynchronous
 * method releases when its future completes); {@link #close()} makes it usable in
 * try-with-resources. Releasing again is a no-op.
 */
public interface LockHandle extends AutoCloseable {

	/**
	 * The key this handle locks, as the caller passed it.
	 * @return the key
	 */
	String key();

	/**
	 * A number strictly greater than the token of every earlier acquisition of the same
	 * key. Pass it to the resource you protect so that it can reject writes from a holder
	 * whose lease ran out (fencing). A re-entrant acquisition returns the token of the
	 * outer one.
	 * @return the fencing token
	 */
	long fencingToken();

	/**
	 * Whether this handle still holds the lock as far as this process can know: not
	 * released, not reported lost, and the lease confirmed by the store within its
	 * duration.
	 * @return whether the lock is still held
	 */
	boolean isHeld();

	/**
	 * Registers a callback run once if the lock is lost while held (lease expired, taken
	 * over, or not renewable in time). It runs on the registry's event thread
	 * ({@code user-lock-events}), one callback or listener at a time in the order of the
	 * events, never on the thread that renews leases: a slow callback delays other
	 * callbacks, not renewals. When the lock is already lost it runs at once, on the
	 * calling thread. Use {@link #isHeld()} where the answer must not wait for a thread.
	 * @param callback called with this handle, once
	 */
	void onLost(Consumer<LockHandle> callback);

	/**
	 * Hands the lock over from the acquiring thread to asynchronous work that will
	 * release it later: from now on that thread no longer re-enters it, and a new acquire
	 * from it waits like anyone else's. Use it when the acquiring thread returns while
	 * the protected work goes on elsewhere (the {@code @UserLock} advice does it for a
	 * returned {@code CompletionStage}). Has no effect on a re-entrant (inner) handle or
	 * a released one.
	 */
	void detachFromThread();

	/**
	 * Releases the lock. Never throws for a lock that was lost meanwhile: that is logged
	 * and counted.
	 */
	void release();

	/**
	 * Releases the lock but keeps the key locked until {@code holdAtLeast} has passed
	 * since acquisition, so that a duplicate that arrives just after the work finished is
	 * refused too. Nothing waits and nothing renews: the store expires the key.
	 * @param holdAtLeast how long after acquisition the key stays locked at least
	 */
	void release(Duration holdAtLeast);

	/**
	 * Releases the lock without blocking the calling thread: the future completes when
	 * {@link #release()} would have returned (by default once the store confirmed the
	 * release, so that the key is free for every instance). It never completes
	 * exceptionally for a lock lost meanwhile or a store that cannot be reached: that is
	 * logged and counted, and the lease ends the lock. The default implementation, for
	 * handles of other libraries, calls {@link #release()}.
	 * @return a future completed when the release is done
	 */
	default CompletableFuture<Void> releaseAsync() {
		return releaseAsync(Duration.ZERO);
	}

	/**
	 * {@link #release(Duration)} without blocking the calling thread; see
	 * {@link #releaseAsync()}.
	 * @param holdAtLeast how long after acquisition the key stays locked at least
	 * @return a future completed when the release is done
	 */
	default CompletableFuture<Void> releaseAsync(Duration holdAtLeast) {
		try {
			if (holdAtLeast.isZero()) {
				release();
			}
			else {
				release(holdAtLeast);
			}
			return CompletableFuture.completedFuture(null);
		}
		catch (RuntimeException ex) {
			return CompletableFuture.failedFuture(ex);
		}
	}

	/** Same as {@link #release()}. */
	@Override
	void close();

}
