package io.github.userlock;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

/**
 * What to lock and for how long to wait. Immutable; build one with {@link #of(String)}
 * and the {@code with…} methods. A {@code null} wait or lease time means the registry's
 * default.
 *
 * @param key the key to lock, validated by the registry (not blank, at most the
 * configured length)
 * @param namespace an optional namespace so that two kinds of lock on the same key do not
 * exclude each other; empty for none. Letters, digits, {@code .}, {@code _} and {@code -}
 * only, so that a namespace and a key can never be combined into another namespace's key
 * @param waitTime how long to wait for a holder to release; zero to give up at once
 * @param leaseTime how long the store keeps the lock if this process stops renewing it
 * (crash)
 */
public record LockRequest(String key, String namespace, @Nullable Duration waitTime, @Nullable Duration leaseTime) {

	private static final Pattern NAMESPACE = Pattern.compile("[A-Za-z0-9._-]*");

	/**
	 * Validates the namespace and the times.
	 * @param key the key to lock
	 * @param namespace the namespace, empty for none
	 * @param waitTime the wait time, {@code null} for the registry's default
	 * @param leaseTime the lease time, {@code null} for the registry's default
	 * @throws IllegalArgumentException naming the bad value
	 */
	public LockRequest {
		Objects.requireNonNull(namespace, "namespace must not be null (use \"\" for none)");
		// no regular expression for the common empty namespace (every acquire builds a
		// request, often twice)
		if (!namespace.isEmpty() && !NAMESPACE.matcher(namespace).matches()) {
			throw new IllegalArgumentException(
					"Lock namespace '" + namespace + "' may only contain letters, digits, '.', '_' and '-'");
		}
		if (waitTime != null && waitTime.isNegative()) {
			throw new IllegalArgumentException("Lock wait time must not be negative, was " + waitTime);
		}
		if (leaseTime != null && (leaseTime.isNegative() || leaseTime.toMillis() < 1)) {
			throw new IllegalArgumentException("Lock lease time must be at least 1 ms, was " + leaseTime);
		}
	}

	/**
	 * A request for {@code key} with the registry's default wait and lease times.
	 * @param key the lock key
	 * @return the request
	 */
	public static LockRequest of(String key) {
		return new LockRequest(key, "", null, null);
	}

	/**
	 * This request in another namespace.
	 * @param namespace letters, digits, {@code .}, {@code _} and {@code -}; empty for
	 * none
	 * @return a new request
	 */
	public LockRequest withNamespace(String namespace) {
		return new LockRequest(this.key, namespace, this.waitTime, this.leaseTime);
	}

	/**
	 * This request with another wait time.
	 * @param waitTime the wait time, {@code null} for the registry's default
	 * @return a new request
	 */
	public LockRequest withWaitTime(@Nullable Duration waitTime) {
		return new LockRequest(this.key, this.namespace, waitTime, this.leaseTime);
	}

	/**
	 * This request with another lease time.
	 * @param leaseTime the lease time, {@code null} for the registry's default
	 * @return a new request
	 */
	public LockRequest withLeaseTime(@Nullable Duration leaseTime) {
		return new LockRequest(this.key, this.namespace, this.waitTime, leaseTime);
	}

}
