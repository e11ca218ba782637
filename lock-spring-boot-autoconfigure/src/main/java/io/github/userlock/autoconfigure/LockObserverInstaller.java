package io.github.userlock.autoconfigure;

import java.util.List;

import io.github.userlock.support.AbstractLockRegistry;
import io.github.userlock.support.LockObserver;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;

/**
 * Gives every {@link AbstractLockRegistry} bean the {@link LockObserver} beans of the
 * context (logs, metrics, the held-lock list of the endpoint, and any of the
 * application's own), in their order, once all singletons exist. It replaces an observer
 * set on the registry before: declare yours as a bean instead.
 */
final class LockObserverInstaller implements SmartInitializingSingleton {

	private final ObjectProvider<AbstractLockRegistry> registries;

	private final ObjectProvider<LockObserver> observers;

	LockObserverInstaller(ObjectProvider<AbstractLockRegistry> registries, ObjectProvider<LockObserver> observers) {
		this.registries = registries;
		this.observers = observers;
	}

	@Override
	public void afterSingletonsInstantiated() {
		List<LockObserver> all = this.observers.orderedStream().toList();
		LockObserver observer = LockObserver.composite(all);
		this.registries.orderedStream().forEach((registry) -> registry.setObserver(observer));
	}

}
