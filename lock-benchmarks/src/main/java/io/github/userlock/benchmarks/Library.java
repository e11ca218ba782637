package io.github.userlock.benchmarks;

import java.util.function.Function;

import org.springframework.integration.redis.util.RedisLockRegistry.RedisLockType;

/** The lock libraries the benchmark compares, by the name used on the command line. */
enum Library {

	OURS("ours", "lock-spring-boot-starter RedisLockRegistry (defaults: release sent, not awaited)",
			(settings) -> new UserLockClient(settings, false)),

	OURS_AWAITED("ours-awaited", "lock-spring-boot-starter RedisLockRegistry, awaitRelease(true)",
			(settings) -> new UserLockClient(settings, true)),

	REDISSON("redisson", "Redisson 3.52.0 RLock (watchdog)", RedissonLockClient::new),

	SI_SPIN("si-spin", "Spring Integration RedisLockRegistry SPIN_LOCK",
			(settings) -> new SpringIntegrationLockClient(settings, RedisLockType.SPIN_LOCK)),

	SI_PUBSUB("si-pubsub", "Spring Integration RedisLockRegistry PUB_SUB",
			(settings) -> new SpringIntegrationLockClient(settings, RedisLockType.PUB_SUB_LOCK));

	private final String id;

	private final String description;

	private final Function<ClientSettings, LockClient> factory;

	Library(String id, String description, Function<ClientSettings, LockClient> factory) {
		this.id = id;
		this.description = description;
		this.factory = factory;
	}

	String id() {
		return this.id;
	}

	String description() {
		return this.description;
	}

	boolean isPeer() {
		return this != OURS && this != OURS_AWAITED;
	}

	LockClient open(ClientSettings settings) {
		return this.factory.apply(settings);
	}

	static Library byId(String id) {
		for (Library library : values()) {
			if (library.id.equals(id)) {
				return library;
			}
		}
		throw new IllegalArgumentException(
				"Unknown library '" + id + "'; known: ours, ours-awaited, redisson, si-spin, si-pubsub");
	}

}
