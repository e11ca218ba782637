package io.github.userlock.benchmarks;

import java.util.concurrent.locks.Lock;

import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.integration.redis.util.RedisLockRegistry;
import org.springframework.integration.redis.util.RedisLockRegistry.RedisLockType;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * Spring Integration's {@code RedisLockRegistry} on its own
 * {@code LettuceConnectionFactory} (Spring Data Redis defaults: one shared native
 * connection), in {@code SPIN_LOCK} or {@code PUB_SUB_LOCK} mode, with
 * {@code expireAfter} set to the common lease. A renewal {@code TaskScheduler} is set
 * only when asked.
 */
final class SpringIntegrationLockClient extends JdkLockClient {

	private final LettuceConnectionFactory connectionFactory;

	private final RedisLockRegistry registry;

	private final @Nullable ThreadPoolTaskScheduler scheduler;

	SpringIntegrationLockClient(ClientSettings settings, RedisLockType type) {
		this.connectionFactory = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration(settings.host(), settings.port()));
		this.connectionFactory.afterPropertiesSet();
		this.connectionFactory.start();
		this.registry = new RedisLockRegistry(this.connectionFactory, "si-bench", settings.lease());
		this.registry.setRedisLockType(type);
		if (settings.renewal()) {
			ThreadPoolTaskScheduler taskScheduler = new ThreadPoolTaskScheduler();
			taskScheduler.setPoolSize(1);
			taskScheduler.setThreadNamePrefix("si-renewal-");
			// let a renewal in flight finish at close instead of interrupting it
			// mid-command
			taskScheduler.setWaitForTasksToCompleteOnShutdown(true);
			taskScheduler.setAwaitTerminationSeconds(10);
			taskScheduler.initialize();
			this.registry.setRenewalTaskScheduler(taskScheduler);
			this.scheduler = taskScheduler;
		}
		else {
			this.scheduler = null;
		}
	}

	@Override
	Lock lock(String key) {
		return this.registry.obtain(key);
	}

	@Override
	public void close() {
		this.registry.destroy();
		if (this.scheduler != null) {
			this.scheduler.shutdown();
		}
		this.connectionFactory.destroy();
	}

}
