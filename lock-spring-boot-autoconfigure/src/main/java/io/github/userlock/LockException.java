package io.github.userlock;

import org.jspecify.annotations.Nullable;

/**
 * Base class of every exception the lock throws. Unchecked, so that a locked service
 * method keeps its signature.
 */
public class LockException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	private final @Nullable String key;

	public LockException(@Nullable String key, String message) {
		this(key, message, null);
	}

	public LockException(@Nullable String key, String message, @Nullable Throwable cause) {
		super(message, cause);
		this.key = key;
	}

	/**
	 * The lock key this exception is about, or {@code null} when it concerns no single
	 * key.
	 */
	public @Nullable String getKey() {
		return this.key;
	}

}
