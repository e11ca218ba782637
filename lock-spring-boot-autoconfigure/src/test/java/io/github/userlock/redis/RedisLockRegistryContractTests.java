package io.github.userlock.redis;

import io.github.userlock.support.AbstractLockRegistry;
import io.github.userlock.support.LockRegistryContractTests;
import io.github.userlock.test.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The lock contract on Redis, with two registries on separate connections acting as two
 * instances.
 */
class RedisLockRegistryContractTests extends LockRegistryContractTests {

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension();

	private RedisLockRegistry first;

	private RedisLockRegistry second;

	@BeforeEach
	void createRegistries() {
		this.first = RedisLockRegistry.builder(redis.newClient()).build();
		this.second = RedisLockRegistry.builder(redis.newClient()).build();
	}

	@AfterEach
	void closeRegistries() {
		this.first.close();
		this.second.close();
	}

	@Override
	public AbstractLockRegistry registry() {
		return this.first;
	}

	@Override
	public AbstractLockRegistry otherInstance() {
		return this.second;
	}

}
