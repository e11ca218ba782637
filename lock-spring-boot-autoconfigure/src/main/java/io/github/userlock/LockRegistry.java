package io.github.userlock;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Hands out locks by key. Implementations: {@code RedisLockRegistry} (across every
 * instance that shares the Redis) and {@code InMemoryLockRegistry} (one JVM, for
 * development and tests).
 *
 * <p>
 * Every implementation guarantees: at most one holder per key at a time; a thread that
 * acquires a key it already holds gets it again at once and must release as often as it
 * acquired; a handle may be released from any thread; the protected code never runs when
 * the lock was not acquired (a conflict, an unreachable store or an interrupt each
 * throw).
 */
public interface LockRegistry {

	/**
	 * Acquires the lock, waiting up to the request's wait time.
	 * @param request what to lock and how long to wait
	 * @return the held lock; release it
	 * @throws LockConflictException when someone else still holds it after the wait time
	 * @throws LockUnavailableException when the store cannot be reached within the
	 * command timeout
	 * @throws LockInterruptedException when the waiting thread is interrupted
	 * @throws IllegalArgumentException when the key is null, blank, malformed or too long
	 */
	LockHandle acquire(LockRequest request);

	/**
	 * Like {@link #acquire(LockRequest)} but returns an empty {@code Optional} instead of
	 * throwing {@link LockConflictException}.
	 * @param request what to lock and how long to wait
	 * @return the held lock, or empty when someone else holds it
	 */
	Optional<LockHandle> tryAcquire(LockRequest request);

	/**
	 * Acquires the lock without blocking the calling thread: the future completes with
	 * the held lock, or exceptionally with the exceptions {@link #acquire(LockRequest)}
	 * throws ({@link LockConflictException} after the wait time,
	 * {@link LockUnavailableException}, {@link IllegalArgumentException} for a bad key).
	 * No thread waits meanwhile: wake-ups and timeouts drive it. The acquisition belongs
	 * to no thread, so it is never re-entered: a later acquire of the same key, from any
	 * thread, waits for it like anyone else's. Cancelling the future before it completes
	 * leaves nothing held: a grant that arrives later is released at once.
	 *
	 * <p>
	 * The future completes on a thread of the registry (the Redis driver's I/O thread, or
	 * its timer thread {@code user-lock-timer}): do not block in a dependent stage, use
	 * the {@code ...Async} variants of {@link CompletableFuture} for blocking work. The
	 * default implementation, for registries of other libraries, runs the blocking
	 * {@link #acquire(LockRequest)} on the calling thread.
	 * @param request what to lock and how long to wait
	 * @return the future of the held lock
	 */
	default CompletableFuture<LockHandle> acquireAsync(LockRequest request) {
		try {
			return CompletableFuture.completedFuture(acquire(request));
		}
		catch (RuntimeException ex) {
			return CompletableFuture.failedFuture(ex);
		}
	}

	/**
	 * Like {@link #acquireAsync(LockRequest)} but completes with an empty
	 * {@code Optional} instead of failing with {@link LockConflictException}.
	 * @param request what to lock and how long to wait
	 * @return the future of the held lock, or of empty when someone else holds it
	 */
	default CompletableFuture<Optional<LockHandle>> tryAcquireAsync(LockRequest request) {
		try {
			return CompletableFuture.completedFuture(tryAcquire(request));
		}
		catch (RuntimeException ex) {
			return CompletableFuture.failedFuture(ex);
		}
	}

	/**
	 * Acquires {@code key} with the default lease, waiting up to {@code waitTime}.
	 * @param key the lock key
	 * @param waitTime how long to wait for another holder; zero for not at all
	 * @return the held lock; release it
	 */
	default LockHandle acquire(String key, Duration waitTime) {
		return acquire(LockRequest.of(key).withWaitTime(waitTime));
	}

	/**
	 * Acquires {@code key} only if nobody holds it, without waiting.
	 * @param key the lock key
	 * @return the held lock, or empty when someone else holds it
	 */
	default Optional<LockHandle> tryAcquire(String key) {
		return tryAcquire(LockRequest.of(key).withWaitTime(Duration.ZERO));
	}

	/**
	 * Runs {@code action} under the lock on {@code key} and returns its result; releases
	 * in every outcome.
	 * @param <T> the type of the result
	 * @param key the lock key
	 * @param waitTime how long to wait for another holder; zero for not at all
	 * @param action what to run while holding the lock
	 * @return what {@code action} returned
	 */
	default <T> T callWithLock(String key, Duration waitTime, Supplier<T> action) {
		try (LockHandle handle = acquire(key, waitTime)) {
			return action.get();
		}
	}

	/**
	 * Runs {@code action} under the lock on {@code key}; releases in every outcome.
	 * @param key the lock key
	 * @param waitTime how long to wait for another holder; zero for not at all
	 * @param action what to run while holding the lock
	 */
	default void runWithLock(String key, Duration waitTime, Runnable action) {
		try (LockHandle handle = acquire(key, waitTime)) {
			action.run();
		}
	}

	/**
	 * Adds a listener for lock-loss events.
	 * @param listener the listener, called on the registry's threads
	 */
	void addListener(LockListener listener);

}
