package io.github.userlock;

import org.jspecify.annotations.Nullable;

/**
 * Thrown when the lock store cannot be reached or does not answer within the configured
 * command timeout. The protected code did not run (fail closed): running it without the
 * lock is exactly the bug a lock exists to prevent.
 */
public class LockUnavailableException extends LockException {

	private static final long serialVersionUID = 1L;

	public LockUnavailableException(@Nullable String key, String message, @Nullable Throwable cause) {
		super(key, message, cause);
	}

}
