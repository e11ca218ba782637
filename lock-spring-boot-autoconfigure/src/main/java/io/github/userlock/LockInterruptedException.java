package io.github.userlock;

/**
 * Thrown when the thread waiting for a lock is interrupted. The wait ended cleanly: no
 * lock is held and the thread's interrupt status is set again, so the caller still sees
 * it.
 */
public class LockInterruptedException extends LockException {

	private static final long serialVersionUID = 1L;

	/**
	 * The wait for {@code key} was interrupted.
	 * @param key the lock key
	 * @param cause the interruption
	 */
	public LockInterruptedException(String key, InterruptedException cause) {
		super(key, "Interrupted while waiting for lock '" + key + "'", cause);
	}

}
