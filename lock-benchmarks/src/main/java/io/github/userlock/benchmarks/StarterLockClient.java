package io.github.userlock.benchmarks;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import io.github.userlock.LockRegistry;
import io.github.userlock.autoconfigure.LockProperties;

import org.springframework.context.ConfigurableApplicationContext;

/**
 * Ours as users get it: the {@link LockRegistry} bean of a {@link BootInstance} with the
 * starter's auto-configuration on the Lettuce client Boot builds, configured only through
 * properties ({@code spring.data.redis.host/port}, {@code lock.lease-time} set to the
 * common lease, plus the row's {@code lock.*} properties).
 */
final class StarterLockClient extends RegistryLockClient {

	private final ConfigurableApplicationContext context;

	StarterLockClient(ClientSettings settings, Map<String, String> lockProperties) {
		this(BootInstance.start(settings, withLease(settings, lockProperties)));
	}

	private StarterLockClient(ConfigurableApplicationContext context) {
		super(context.getBean(LockRegistry.class));
		this.context = context;
	}

	private static Map<String, String> withLease(ClientSettings settings, Map<String, String> lockProperties) {
		Map<String, String> properties = new LinkedHashMap<>();
		properties.put("lock.lease-time", settings.lease().toMillis() + "ms");
		properties.putAll(lockProperties);
		return properties;
	}

	/**
	 * The effective {@code lock.await-release} of this instance (after defaults and the
	 * row's properties).
	 */
	boolean awaitRelease() {
		return this.context.getBean(LockProperties.class).isAwaitRelease();
	}

	@Override
	public void close() {
		// closes the registry (its lifecycle stops it), then Boot's connection factory
		this.context.close();
	}

}
