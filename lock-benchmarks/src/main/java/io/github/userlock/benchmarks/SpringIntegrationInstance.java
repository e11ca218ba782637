package io.github.userlock.benchmarks;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.Lock;
import java.util.function.Function;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.integration.redis.util.RedisLockRegistry;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * One instance of an application using Spring Integration's {@code RedisLockRegistry} as
 * its users set it up: a Spring Boot application context with auto-configuration, whose
 * {@code LettuceConnectionFactory} Boot builds from {@code spring.data.redis.*} (Boot's
 * defaults: one shared native connection), and the registry created on it in
 * {@code SPIN_LOCK} or {@code PUB_SUB_LOCK} mode with {@code expireAfter} set to the
 * common lease; a renewal {@code TaskScheduler} only when asked.
 *
 * <p>
 * This class refers to nothing of the benchmark but JDK types in its signatures, so that
 * {@link IsolatedSpringIntegration} can also load it inside a class loader holding
 * another Boot and Spring Integration (the newest 7.1.x); the harness sees only a
 * {@code Function<String, Lock>} that is {@link AutoCloseable}.
 */
public final class SpringIntegrationInstance implements Function<String, Lock>, AutoCloseable {

	private final ConfigurableApplicationContext context;

	private final RedisLockRegistry registry;

	private final @Nullable ThreadPoolTaskScheduler scheduler;

	private SpringIntegrationInstance(Map<String, String> properties, long leaseMillis, String lockType,
			boolean renewal) {
		Map<String, Object> all = new LinkedHashMap<>(properties);
		all.put("spring.main.banner-mode", "off");
		this.context = new SpringApplicationBuilder(Application.class).web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.registerShutdownHook(false)
			.properties(all)
			.run();
		this.registry = new RedisLockRegistry(this.context.getBean(RedisConnectionFactory.class), "si-bench",
				Duration.ofMillis(leaseMillis));
		this.registry.setRedisLockType(RedisLockRegistry.RedisLockType.valueOf(lockType));
		if (renewal) {
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

	/**
	 * Starts an instance.
	 * @param properties the application's properties ({@code spring.data.redis.host},
	 * {@code port}, ...)
	 * @param leaseMillis the registry's {@code expireAfter}
	 * @param lockType {@code SPIN_LOCK} or {@code PUB_SUB_LOCK}
	 * @param renewal whether to set a renewal {@code TaskScheduler}
	 * @return the instance
	 */
	public static SpringIntegrationInstance open(Map<String, String> properties, Long leaseMillis, String lockType,
			Boolean renewal) {
		return new SpringIntegrationInstance(properties, leaseMillis, lockType, renewal);
	}

	/** The Spring Integration version of this class loader. */
	public static String version() {
		String version = RedisLockRegistry.class.getPackage().getImplementationVersion();
		return (version != null) ? version : "(version unknown)";
	}

	/** The registry's lock for {@code key}. */
	@Override
	public Lock apply(String key) {
		return this.registry.obtain(key);
	}

	@Override
	public void close() {
		this.registry.destroy();
		if (this.scheduler != null) {
			this.scheduler.shutdown();
		}
		this.context.close();
	}

	/** The instance's application class. */
	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class Application {

	}

}
