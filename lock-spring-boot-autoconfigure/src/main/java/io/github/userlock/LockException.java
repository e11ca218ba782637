package io.github.userlock;

import org.jspecify.annotations.Nullable;

/**
 * Base class of every exception the lock throws. Unchecked, so that a locked service
 * method keeps its signature.
 */
public class LockException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	/**
	 * The lock key, if the exception is about one.
	 */
	private final @Nullable String key;

	/**
	 * An exception about {@code key}.
	 * @param key the lock key, or {@code null}
	 * @param message what went wrong
	 */
	public LockException(@Nullable String key, String message) {
		this(key, message, null);
	}

	/**
	 * An exception about {@code key}, caused by {@code cause}.
	 * @param key the lock key, or {@code null}
	 * @param message what went wrong
	 * @param cause the underlying failure, if any
	 */
	public LockException(@Nullable String key, String message, @Nullable Throwable cause) {
		super(message, cause);
		this.key = key;
	}

	/**
	 * The lock key this exception is about, or {@code null} when it concerns no single
	 * key.
	 * @return the key, or {@code null}
	 */
	public @Nullable String getKey() {
		return this.key;
	}

}
