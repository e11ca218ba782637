package io.github.userlock.benchmarks;

import java.time.Duration;

import io.github.userlock.redis.RedisLockRegistry;
import io.lettuce.core.RedisClient;

/**
 * The extra row {@code ours-bare}: this project's {@link RedisLockRegistry} built with
 * its builder on a bare Lettuce {@link RedisClient}, as the figures before 2026-12 were
 * taken (users get {@link StarterLockClient} instead); no target is judged on it.
 */
final class UserLockClient extends RegistryLockClient {

	private final RedisClient client;

	private final RedisLockRegistry registry;

	UserLockClient(ClientSettings settings, boolean awaitRelease) {
		this(RedisClient.create(settings.uri()), settings, awaitRelease);
	}

	private UserLockClient(RedisClient client, ClientSettings settings, boolean awaitRelease) {
		this(client,
				RedisLockRegistry.builder(client)
					.keyPrefix("user-lock:")
					.defaultLeaseTime(settings.lease())
					.awaitRelease(awaitRelease)
					.build());
	}

	private UserLockClient(RedisClient client, RedisLockRegistry registry) {
		super(registry);
		this.client = client;
		this.registry = registry;
	}

	@Override
	public void close() {
		this.registry.close();
		this.client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
	}

}
