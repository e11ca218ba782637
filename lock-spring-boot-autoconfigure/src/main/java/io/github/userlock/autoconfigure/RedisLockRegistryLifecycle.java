package io.github.userlock.autoconfigure;

import io.github.userlock.redis.RedisLockRegistry;

import org.springframework.context.SmartLifecycle;

/**
 * Closes the {@link RedisLockRegistry} during shutdown after the web server and message listeners have
 * stopped (they stop in higher phases, so in-flight calls still release their locks) and before the Lettuce
 * connection factory (phase 0) shuts the client down under the registry's connections.
 */
final class RedisLockRegistryLifecycle implements SmartLifecycle {

	/** Below the web server's graceful shutdown phases, above the connection factory's phase 0. */
	static final int PHASE = 1 << 20;

	private final RedisLockRegistry registry;

	private volatile boolean running;

	RedisLockRegistryLifecycle(RedisLockRegistry registry) {
		this.registry = registry;
	}

	@Override
	public void start() {
		this.running = true;
	}

	@Override
	public void stop() {
		this.running = false;
		this.registry.close();
	}

	@Override
	public boolean isRunning() {
		return this.running && !this.registry.isClosed();
	}

	@Override
	public int getPhase() {
		return PHASE;
	}

}
