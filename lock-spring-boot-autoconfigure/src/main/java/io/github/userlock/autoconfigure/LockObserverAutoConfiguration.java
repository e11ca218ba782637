package io.github.userlock.autoconfigure;

import io.github.userlock.support.AbstractLockRegistry;
import io.github.userlock.support.LockObserver;
import io.github.userlock.support.LoggingLockObserver;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Connects the lock registry to its observers: every {@link LockObserver} bean (the DEBUG
 * log of acquires and releases here; metrics and the endpoint's list of held locks when
 * their libraries are present) is installed in every {@link AbstractLockRegistry} bean.
 */
@AutoConfiguration(after = LockAutoConfiguration.class)
@ConditionalOnBooleanProperty(name = "lock.enabled", matchIfMissing = true)
public final class LockObserverAutoConfiguration {

	/**
	 * Creates the auto-configuration; Spring calls it.
	 */
	public LockObserverAutoConfiguration() {
	}

	@Bean
	@ConditionalOnMissingBean
	LoggingLockObserver loggingLockObserver() {
		return new LoggingLockObserver();
	}

	@Bean
	static LockObserverInstaller lockObserverInstaller(ObjectProvider<AbstractLockRegistry> registries,
			ObjectProvider<LockObserver> observers) {
		return new LockObserverInstaller(registries, observers);
	}

}
