package io.github.userlock.autoconfigure;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.github.userlock.LockRegistry;
import io.github.userlock.LockRequest;
import io.github.userlock.support.LockGrant;
import io.github.userlock.support.LockObserver;
import io.github.userlock.support.LoggingLockObserver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link LockObserverAutoConfiguration}: which observers the registry gets. */
@Timeout(30)
class LockObserverAutoConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class, LockObserverAutoConfiguration.class))
		.withPropertyValues("lock.store=memory");

	@Test
	void anApplicationsOwnObserverBeanIsInstalledWithTheLoggingOne() {
		List<String> held = new CopyOnWriteArrayList<>();
		this.runner.withBean(LockObserver.class, () -> new LockObserver() {
			@Override
			public Object lockHeld(LockRequest request, LockGrant grant) {
				held.add(grant.key());
				return null;
			}
		}).run((context) -> {
			assertThat(context).hasSingleBean(LoggingLockObserver.class);
			context.getBean(LockRegistry.class).acquire("u-1", Duration.ZERO).release();
			assertThat(held).containsExactly("u-1");
		});
	}

	@Test
	void offWithTheLock() {
		this.runner.withPropertyValues("lock.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(LoggingLockObserver.class)
				.doesNotHaveBean(LockObserverInstaller.class));
	}

}
