package io.github.userlock.autoconfigure;

import io.github.userlock.actuate.HeldLockTracker;
import io.github.userlock.actuate.LocksEndpoint;
import io.github.userlock.redis.RedisLockRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The {@code locks} Actuator endpoint and the list of held locks behind it, when Actuator
 * is on the class path and the endpoint is available (enabled and exposed, by Boot's
 * rules: not over HTTP unless {@code management.endpoints.web.exposure.include} names
 * it).
 */
@AutoConfiguration(after = LockAutoConfiguration.class)
@ConditionalOnClass(Endpoint.class)
@ConditionalOnBooleanProperty(name = "lock.enabled", matchIfMissing = true)
@ConditionalOnAvailableEndpoint(LocksEndpoint.class)
public final class LocksEndpointAutoConfiguration {

	/**
	 * Creates the auto-configuration; Spring calls it.
	 */
	public LocksEndpointAutoConfiguration() {
	}

	@Bean
	@ConditionalOnMissingBean
	HeldLockTracker heldLockTracker() {
		return new HeldLockTracker();
	}

	@Bean
	@ConditionalOnMissingBean
	LocksEndpoint locksEndpoint(HeldLockTracker tracker, ObjectProvider<RedisLockRegistry> redis) {
		return new LocksEndpoint(tracker, redis.getIfUnique());
	}

}
