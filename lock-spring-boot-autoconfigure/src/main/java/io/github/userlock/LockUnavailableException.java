package io.github.userlock;

import org.jspecify.annotations.Nullable;

/**
 * Thrown when the lock store cannot be reached or does not answer within the configured
 * command timeout. The protected code did not run (fail closed): running it without the
 * lock is exactly the bug a lock exists to prevent.
 */
public class LockUnavailableException extends LockException {

	private static final long serialVersionUID = 1L;

	/**
	 * The store could not answer for {@code key}.
	 * @param key the lock key, or {@code null}
	 * @param message what went wrong
	 * @param cause the underlying failure, if any
	 */
	public LockUnavailableException(@Nullable String key, String message, @Nullable Throwable cause) {
		super(key, message, cause);
	}

}
