package io.github.userlock.benchmarks;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The rows of the benchmark, by the name used on the command line. Ours and the peers are
 * each built as their users get them (see {@link BootInstance}); {@code ours-bare} is an
 * extra row on a bare Lettuce client that no target is judged on.
 */
enum Library {

	OURS("ours",
			"the starter as users get it (Boot context, Boot's Lettuce connection factory), "
					+ "lock.await-release=true: the contract, the default after the engine change",
			Map.of("lock.await-release", "true")),

	OURS_FAST("ours-fast", "the starter as users get it, lock.await-release=false: the opt-in fast mode",
			Map.of("lock.await-release", "false")),

	OURS_BARE("ours-bare",
			"extra, not judged: RedisLockRegistry.builder on a bare Lettuce RedisClient, awaitRelease(true)", null),

	LETTUCE_FLOOR("lettuce-floor",
			"extra, not judged, not a default row: two awaited script calls per cycle (SET NX PX, compare-and-delete) "
					+ "on a connection of Boot's Lettuce client and nothing else, the floor of an awaited-release lock",
			null),

	SOCKET_FLOOR("socket-floor",
			"extra, not judged, not a default row: the same two awaited script calls on a blocking socket of each "
					+ "calling thread (as Jedis works, no I/O thread), not the client Boot builds",
			null),

	REDISSON("redisson", "Redisson RLock (watchdog) on a RedissonClient with its default config", null),

	SI_SPIN("si-spin",
			"Spring Integration (version Boot manages) RedisLockRegistry SPIN_LOCK on Boot's "
					+ "LettuceConnectionFactory",
			null),

	SI_PUBSUB("si-pubsub",
			"Spring Integration (version Boot manages) RedisLockRegistry PUB_SUB_LOCK on Boot's "
					+ "LettuceConnectionFactory",
			null),

	SI_NEWEST_SPIN("si71-spin",
			"Spring Integration (newest 7.1.x, on the Boot 4.1.x stack that manages it) RedisLockRegistry SPIN_LOCK "
					+ "on Boot's LettuceConnectionFactory",
			null),

	SI_NEWEST_PUBSUB("si71-pubsub",
			"Spring Integration (newest 7.1.x, on the Boot 4.1.x stack that manages it) RedisLockRegistry "
					+ "PUB_SUB_LOCK on Boot's LettuceConnectionFactory",
			null);

	private final String id;

	private final String description;

	private final Map<String, String> lockProperties;

	Library(String id, String description, Map<String, String> lockProperties) {
		this.id = id;
		this.description = description;
		this.lockProperties = (lockProperties != null) ? lockProperties : Map.of();
	}

	String id() {
		return this.id;
	}

	String description() {
		return this.description;
	}

	/** The {@code lock.*} properties of the row (ours through the starter only). */
	Map<String, String> lockProperties() {
		return this.lockProperties;
	}

	boolean isPeer() {
		return this == REDISSON || this == SI_SPIN || this == SI_PUBSUB || this == SI_NEWEST_SPIN
				|| this == SI_NEWEST_PUBSUB;
	}

	/** The rows of ours whose targets are judged: the contract and the opt-in. */
	boolean isJudged() {
		return this == OURS || this == OURS_FAST;
	}

	/** Whether the row runs when {@code --libs} does not name the rows. */
	boolean isDefault() {
		return this != LETTUCE_FLOOR && this != SOCKET_FLOOR;
	}

	/** How the row is labelled in verdicts: the opt-in says so. */
	String label() {
		return (this == OURS_FAST) ? "ours-fast (opt-in)" : this.id;
	}

	LockClient open(ClientSettings settings) {
		Function<ClientSettings, LockClient> factory = switch (this) {
			case OURS, OURS_FAST -> (s) -> new StarterLockClient(s, properties(s));
			case OURS_BARE -> (s) -> new UserLockClient(s, true);
			case LETTUCE_FLOOR -> FloorLockClient::new;
			case SOCKET_FLOOR -> SocketFloorLockClient::new;
			case REDISSON -> RedissonLockClient::new;
			case SI_SPIN -> (s) -> new SpringIntegrationLockClient(s, false, "SPIN_LOCK");
			case SI_PUBSUB -> (s) -> new SpringIntegrationLockClient(s, false, "PUB_SUB_LOCK");
			case SI_NEWEST_SPIN -> (s) -> new SpringIntegrationLockClient(s, true, "SPIN_LOCK");
			case SI_NEWEST_PUBSUB -> (s) -> new SpringIntegrationLockClient(s, true, "PUB_SUB_LOCK");
		};
		return factory.apply(settings);
	}

	/** The row's properties, then those given with {@code --lock-property}. */
	private Map<String, String> properties(ClientSettings settings) {
		Map<String, String> properties = new LinkedHashMap<>(this.lockProperties);
		properties.putAll(settings.lockProperties());
		return properties;
	}

	static Library byId(String id) {
		StringBuilder known = new StringBuilder();
		for (Library library : values()) {
			if (library.id.equals(id)) {
				return library;
			}
			known.append((known.length() > 0) ? ", " : "").append(library.id);
		}
		throw new IllegalArgumentException("Unknown library '" + id + "'; known: " + known);
	}

}
