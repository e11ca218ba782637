package io.github.userlock.benchmarks;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockHandle;
import io.github.userlock.LockRegistry;
import io.github.userlock.LockRequest;
import io.github.userlock.autoconfigure.LockProperties;
import org.jspecify.annotations.Nullable;

import org.springframework.context.ConfigurableApplicationContext;

/**
 * Ours as users get it: the {@link LockRegistry} bean of a {@link BootInstance} with the
 * starter's auto-configuration on the Lettuce client Boot builds, configured only through
 * properties ({@code spring.data.redis.host/port}, {@code lock.lease-time} set to the
 * common lease, plus the row's {@code lock.*} properties).
 */
final class StarterLockClient implements LockClient {

	private final ConfigurableApplicationContext context;

	private final LockRegistry registry;

	StarterLockClient(ClientSettings settings, Map<String, String> lockProperties) {
		Map<String, String> properties = new LinkedHashMap<>();
		properties.put("lock.lease-time", settings.lease().toMillis() + "ms");
		properties.putAll(lockProperties);
		this.context = BootInstance.start(settings, properties);
		this.registry = this.context.getBean(LockRegistry.class);
	}

	/**
	 * The effective {@code lock.await-release} of this instance (after defaults and the
	 * row's properties).
	 */
	boolean awaitRelease() {
		return this.context.getBean(LockProperties.class).isAwaitRelease();
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
		return handle.map(StarterLockClient::held).orElse(null);
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
		// closes the registry (its lifecycle stops it), then Boot's connection factory
		this.context.close();
	}

}
