package io.github.userlock.autoconfigure;

import io.github.userlock.actuate.HeldLockTracker;
import io.github.userlock.actuate.LocksEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/** When {@link LocksEndpointAutoConfiguration} adds the endpoint and when it does not. */
@Timeout(30)
class LocksEndpointAutoConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class, LockObserverAutoConfiguration.class,
				LocksEndpointAutoConfiguration.class))
		.withPropertyValues("lock.store=memory");

	@Test
	void exposedEndpointListsTheLocksOfTheRegistry() {
		this.runner.withPropertyValues("management.endpoints.web.exposure.include=locks").run((context) -> {
			assertThat(context).hasSingleBean(LocksEndpoint.class).hasSingleBean(HeldLockTracker.class);
			LocksEndpoint endpoint = context.getBean(LocksEndpoint.class);
			try (var handle = context.getBean(io.github.userlock.LockRegistry.class)
				.acquire("u-1", java.time.Duration.ZERO)) {
				assertThat(endpoint.locks().locks()).singleElement().satisfies((lock) -> {
					assertThat(lock.key()).isEqualTo("u-1");
					assertThat(lock.name()).isEqualTo("default");
					assertThat(lock.holder()).isEqualTo(Thread.currentThread().getName());
					// the in-memory store never expires a lock
					assertThat(lock.leaseRemaining()).isNull();
				});
				// no Redis to ask: 404
				assertThat(endpoint.key("default", new String[] { "u-1" })).isNull();
			}
			assertThat(endpoint.locks().locks()).isEmpty();
		});
	}

	@Test
	void notExposedMeansNoEndpointAndNoTracking() {
		this.runner.run((context) -> assertThat(context).doesNotHaveBean(LocksEndpoint.class)
			.doesNotHaveBean(HeldLockTracker.class));
	}

	@Test
	void withoutActuatorThereIsNoEndpoint() {
		this.runner.withPropertyValues("management.endpoints.web.exposure.include=locks")
			.withClassLoader(new FilteredClassLoader(Endpoint.class))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(LocksEndpoint.class));
	}

	@Test
	void offWithTheLock() {
		this.runner.withPropertyValues("management.endpoints.web.exposure.include=locks", "lock.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(LocksEndpoint.class));
	}

}
