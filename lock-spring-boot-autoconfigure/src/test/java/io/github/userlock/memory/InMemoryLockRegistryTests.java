package io.github.userlock.memory;

import io.github.userlock.support.AbstractLockRegistry;
import io.github.userlock.support.LockRegistryContractTests;

/**
 * The lock contract on the in-memory registry; "another instance" is the same registry on
 * other threads.
 */
class InMemoryLockRegistryTests extends LockRegistryContractTests {

	private final InMemoryLockRegistry registry = new InMemoryLockRegistry();

	@Override
	public AbstractLockRegistry registry() {
		return this.registry;
	}

	@Override
	public AbstractLockRegistry otherInstance() {
		return this.registry;
	}

}
