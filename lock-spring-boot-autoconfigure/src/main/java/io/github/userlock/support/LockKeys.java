package io.github.userlock.support;

import org.jspecify.annotations.Nullable;

/**
 * Validation of lock keys, shared by every registry and by the annotation's key
 * resolution.
 */
public final class LockKeys {

	private LockKeys() {
	}

	/**
	 * Checks that {@code key} is usable: not null, not blank, well-formed UTF-16 (no lone
	 * surrogate, which would silently turn into {@code ?} and collide with another key)
	 * and at most {@code maxBytes} bytes in UTF-8.
	 * @param key the key to check
	 * @param maxBytes the longest key accepted, in UTF-8 bytes
	 * @return {@code key}, unchanged
	 * @throws IllegalArgumentException naming the problem
	 */
	public static String validate(@Nullable String key, int maxBytes) {
		if (key == null) {
			throw new IllegalArgumentException("Lock key must not be null");
		}
		if (key.isBlank()) {
			throw new IllegalArgumentException("Lock key must not be blank, was '" + key + "'");
		}
		long bytes = 0;
		for (int i = 0; i < key.length(); i++) {
			char c = key.charAt(i);
			if (c < 0x80) {
				bytes += 1;
			}
			else if (c < 0x800) {
				bytes += 2;
			}
			else if (Character.isHighSurrogate(c) && i + 1 < key.length()
					&& Character.isLowSurrogate(key.charAt(i + 1))) {
				bytes += 4;
				i++;
			}
			else if (Character.isSurrogate(c)) {
				throw new IllegalArgumentException("Lock key contains an unpaired surrogate (U+"
						+ Integer.toHexString(c).toUpperCase() + ") at index " + i + ": not valid Unicode text");
			}
			else {
				bytes += 3;
			}
		}
		if (bytes > maxBytes) {
			throw new IllegalArgumentException("Lock key is " + bytes + " bytes in UTF-8, longer than the maximum of "
					+ maxBytes + " (lock.max-key-length): '" + abbreviate(key) + "'");
		}
		return key;
	}

	/**
	 * The first 40 characters of {@code key}, for error messages.
	 * @param key the key
	 * @return the key, or its first 40 characters followed by {@code ...}
	 */
	public static String abbreviate(String key) {
		return (key.length() <= 40) ? key : key.substring(0, 40) + "...";
	}

}
