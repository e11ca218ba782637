package io.github.userlock;

import java.time.Duration;

/**
 * Thrown when a lock could not be acquired within its wait time because someone else
 * holds it. The protected code did not run.
 */
public class LockConflictException extends LockException {

	private static final long serialVersionUID = 1L;

	/**
	 * How long the caller waited.
	 */
	private final Duration waited;

	/**
	 * A conflict on {@code key}.
	 * @param key the lock key
	 * @param waited how long the caller waited
	 */
	public LockConflictException(String key, Duration waited) {
		super(key,
				"Lock '" + key + "' is held by another owner; not acquired after waiting " + waited.toMillis() + " ms");
		this.waited = waited;
	}

	/**
	 * How long the caller waited before giving up.
	 * @return the time waited
	 */
	public Duration getWaited() {
		return this.waited;
	}

}
