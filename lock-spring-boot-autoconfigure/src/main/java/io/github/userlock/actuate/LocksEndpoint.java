package io.github.userlock.actuate;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import io.github.userlock.redis.RedisLockRegistry;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

/**
 * The {@code locks} endpoint, read-only. {@code /actuator/locks} lists the locks this
 * instance holds now; {@code /actuator/locks/{name}/{key}} shows Redis's view of any key
 * ({@code default} for the empty name; the key is the rest of the path, so it may contain
 * {@code /}), whoever holds it, without taking it. Never shows an owner token.
 */
@Endpoint(id = "locks")
public class LocksEndpoint {

	/** The name that stands for "no namespace" in paths and answers. */
	public static final String DEFAULT_NAME = "default";

	private final HeldLockTracker tracker;

	private final @Nullable RedisLockRegistry redis;

	/**
	 * An endpoint over {@code tracker}'s held locks; {@code redis}, when there is one,
	 * answers for single keys.
	 * @param tracker the tracker of the locks this instance holds
	 * @param redis the Redis registry, or {@code null} when there is none
	 */
	public LocksEndpoint(HeldLockTracker tracker, @Nullable RedisLockRegistry redis) {
		this.tracker = Objects.requireNonNull(tracker, "tracker");
		this.redis = redis;
	}

	/**
	 * The locks this instance holds now, longest held first.
	 * @return the held locks
	 */
	@ReadOperation
	public HeldLocksDescriptor locks() {
		List<HeldLockDescriptor> locks = this.tracker.heldLocks()
			.stream()
			.map((lock) -> new HeldLockDescriptor(lock.key(), name(lock.namespace()), lock.heldSince().toString(),
					lock.fencingToken(), format(lock.leaseRemaining()), lock.holder()))
			.toList();
		return new HeldLocksDescriptor(locks);
	}

	/**
	 * Redis's view of {@code key} under lock name {@code name}; {@code null} (404) when
	 * the lock is not held in Redis (the in-memory store).
	 * @param name the lock name, {@value #DEFAULT_NAME} for no namespace
	 * @param path the key's path segments, joined with {@code /}
	 * @return the key's state in Redis, or {@code null} without Redis
	 * @throws InvalidEndpointRequestException (400) when the name or key is invalid
	 */
	@ReadOperation
	public @Nullable KeyDescriptor key(@Selector String name,
			@Selector(match = Selector.Match.ALL_REMAINING) String[] path) {
		String key = String.join("/", path);
		if (this.redis == null) {
			return null;
		}
		String namespace = DEFAULT_NAME.equals(name) ? "" : name;
		Optional<Duration> lease;
		try {
			lease = this.redis.leaseInStore(namespace, key);
		}
		catch (IllegalArgumentException ex) {
			throw new InvalidEndpointRequestException(ex.getMessage(), ex.getMessage());
		}
		return new KeyDescriptor(key, name(namespace), lease.isPresent(), format(lease.orElse(null)));
	}

	private static String name(String namespace) {
		return namespace.isEmpty() ? DEFAULT_NAME : namespace;
	}

	private static @Nullable String format(@Nullable Duration duration) {
		return (duration != null) ? duration.toString() : null;
	}

	/**
	 * The answer of {@code GET /actuator/locks}.
	 *
	 * @param locks the held locks, longest held first
	 */
	public record HeldLocksDescriptor(List<HeldLockDescriptor> locks) implements OperationResponseBody {
	}

	/**
	 * One held lock: its key and lock name, when it was taken, its fencing token, the
	 * lease left in the store (ISO-8601, {@code null} when it never expires) and the
	 * holder's thread name or {@code async}.
	 *
	 * @param key the key
	 * @param name the lock name, {@value #DEFAULT_NAME} for no namespace
	 * @param heldSince when it was taken (ISO-8601)
	 * @param fencingToken its fencing token
	 * @param leaseRemaining the lease left in the store (ISO-8601), or {@code null}
	 * @param holder the holder's thread name or {@code async}
	 */
	public record HeldLockDescriptor(String key, String name, String heldSince, long fencingToken,
			@Nullable String leaseRemaining, String holder) {
	}

	/**
	 * The answer of {@code GET /actuator/locks/{name}/{key}}: whether some instance holds
	 * it and the lease left (ISO-8601; left out when nobody holds it).
	 *
	 * @param key the key
	 * @param name the lock name, {@value #DEFAULT_NAME} for no namespace
	 * @param held whether some instance holds it
	 * @param leaseRemaining the lease left (ISO-8601), or {@code null} when nobody holds
	 * it
	 */
	public record KeyDescriptor(String key, String name, boolean held,
			@Nullable String leaseRemaining) implements OperationResponseBody {
	}

}
