package io.github.userlock;

/**
 * Receives lock events of a registry. Called on the registry's event thread
 * ({@code user-lock-events}), one event at a time in the order they happened, together
 * with the handles' {@link LockHandle#onLost lost-callbacks}: a slow listener delays the
 * other listeners and callbacks, never a renewal or a lock call. Return quickly all the
 * same.
 */
public interface LockListener {

	/**
	 * A held lock was lost: its lease expired or the key was taken over before it was
	 * released. The code running under it is no longer protected.
	 * @param key the lock key
	 * @param fencingToken the fencing token of the lost acquisition
	 */
	default void lockLost(String key, long fencingToken) {
	}

	/**
	 * A release found the lock already gone or owned by someone else (the lease had run
	 * out).
	 * @param key the lock key
	 * @param fencingToken the fencing token of the lost acquisition
	 */
	default void lostBeforeRelease(String key, long fencingToken) {
	}

}
