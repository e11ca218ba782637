package io.github.userlock.benchmarks;

import java.time.Duration;
import java.util.Optional;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockHandle;
import io.github.userlock.LockRequest;
import io.github.userlock.redis.RedisLockRegistry;
import io.lettuce.core.RedisClient;
import org.jspecify.annotations.Nullable;

/**
 * The extra row {@code ours-bare}: this project's {@link RedisLockRegistry} built with
 * its builder on a bare Lettuce {@link RedisClient}, as the figures before 2026-12 were
 * taken (users get {@link StarterLockClient} instead); no target is judged on it.
 */
final class UserLockClient implements LockClient {

	private final RedisClient client;

	private final RedisLockRegistry registry;

	UserLockClient(ClientSettings settings, boolean awaitRelease) {
		this.client = RedisClient.create(settings.uri());
		this.registry = RedisLockRegistry.builder(this.client)
			.keyPrefix("user-lock:")
			.defaultLeaseTime(settings.lease())
			.awaitRelease(awaitRelease)
			.build();
	}

	@Override
	public @Nullable Held acquire(String key, Duration waitTime) {
		try {
			return held(this.registry.acquire(LockRequest.of(key).withWaitTime(waitTime)));
		}
		catch (LockConflictException ex) {
			return null;
		}
	}

	@Override
	public @Nullable Held tryAcquire(String key) {
		Optional<LockHandle> handle = this.registry.tryAcquire(key);
		return handle.map(UserLockClient::held).orElse(null);
	}

	private static Held held(LockHandle handle) {
		return new Held() {

			@Override
			public void release() {
				handle.release();
			}

			@Override
			public long token() {
				return handle.fencingToken();
			}

		};
	}

	@Override
	public void close() {
		this.registry.close();
		this.client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
	}

}
