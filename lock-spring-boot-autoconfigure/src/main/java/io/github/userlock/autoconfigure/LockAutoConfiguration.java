package io.github.userlock.autoconfigure;

import io.github.userlock.LockRegistry;
import io.github.userlock.aop.LockKeyResolver;
import io.github.userlock.aop.SpelLockKeyResolver;
import io.github.userlock.aop.UserLockAdvisor;
import io.github.userlock.memory.InMemoryLockRegistry;
import java.time.Duration;
import java.util.Optional;

import io.github.userlock.redis.RedisLockRegistry;
import io.lettuce.core.AbstractRedisClient;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.aop.config.AopConfigUtils;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Role;
import org.springframework.core.env.Environment;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.type.AnnotationMetadata;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Auto-configuration of the lock: a {@link LockRegistry} for {@code lock.store}
 * ({@code redis} by default, on the application's Lettuce {@code RedisConnectionFactory},
 * or on a Lettuce client of its own built from Spring Boot's Redis connection details
 * when the application's factory is Jedis; or {@code memory}), the {@code @UserLock}
 * advisor with its key resolver, and in a Spring MVC or WebFlux application the
 * {@link LockExceptionHandler}. Every bean backs off when the application defines its
 * own; {@code lock.enabled=false} turns all of it off.
 *
 * <p>
 * With the default store and no Redis connection factory, start-up fails: falling back to
 * a lock that excludes only within one instance would bring back the bug the lock exists
 * to prevent.
 *
 * <p>
 * One jar for Boot 3.5 and 4.x: Boot's Redis auto-configuration is named, never loaded,
 * here (it moved between the two generations), and its connection details are read
 * through whichever generation's interface is on the classpath
 * ({@link BootRedisConnection}).
 */
@AutoConfiguration(afterName = { LockAutoConfiguration.BOOT_4_REDIS_AUTO_CONFIGURATION,
		LockAutoConfiguration.BOOT_3_REDIS_AUTO_CONFIGURATION })
@ConditionalOnBooleanProperty(name = "lock.enabled", matchIfMissing = true)
@EnableConfigurationProperties(LockProperties.class)
@Import(LockAutoConfiguration.AutoProxyRegistrar.class)
public final class LockAutoConfiguration {

	/**
	 * Creates the auto-configuration; Spring Boot does, from the auto-configuration
	 * imports.
	 */
	public LockAutoConfiguration() {
	}

	/** Boot 4.x's Redis auto-configuration (module spring-boot-data-redis). */
	static final String BOOT_4_REDIS_AUTO_CONFIGURATION = "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration";

	/** Boot 3.5's Redis auto-configuration (in spring-boot-autoconfigure). */
	static final String BOOT_3_REDIS_AUTO_CONFIGURATION = "org.springframework.boot.autoconfigure.data.redis.RedisAutoConfiguration";

	private static final Logger logger = LoggerFactory.getLogger(LockAutoConfiguration.class);

	static final String MISSING_REDIS_MESSAGE = "lock.store=redis (the default) needs a Lettuce RedisConnectionFactory, "
			+ "but %s. Add spring-boot-starter-data-redis and point spring.data.redis.* at your Redis (standalone, "
			+ "Sentinel or Cluster), or set lock.store=memory for a single instance (development and tests only), "
			+ "or define your own LockRegistry bean.";

	@Bean
	@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
	@ConditionalOnMissingBean
	static UserLockAdvisor userLockAdvisor(ObjectProvider<LockRegistry> registry,
			ObjectProvider<LockKeyResolver> keyResolver, Environment environment) {
		// the registry and resolver are looked up at the first call: advisors are created
		// before other beans.
		// The order is read from the environment: binding LockProperties this early would
		// exclude it from
		// post-processing.
		UserLockAdvisor advisor = new UserLockAdvisor(registry::getObject, keyResolver::getObject);
		advisor
			.setOrder(Binder.get(environment).bind("lock.order", Integer.class).orElse(LockProperties.DEFAULT_ORDER));
		return advisor;
	}

	@Bean
	@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
	@ConditionalOnMissingBean
	static LockKeyResolver lockKeyResolver() {
		return new SpelLockKeyResolver();
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(RedisConnectionFactory.class)
	@ConditionalOnProperty(name = "lock.store", havingValue = "redis", matchIfMissing = true)
	static class RedisStoreConfiguration {

		/**
		 * The lock's own Lettuce client when the application's connection factory is not
		 * Lettuce (Jedis): built from the connection details Boot built that factory
		 * from, shut down after the registry (which depends on it) closed.
		 */
		@Bean(destroyMethod = "close")
		@ConditionalOnBean(RedisConnectionFactory.class)
		// declared before lockRegistry: conditions are evaluated in declaration order, so
		// this one sees only the application's own LockRegistry, not ours
		@ConditionalOnMissingBean({ LettuceConnectionFactory.class, LockRegistry.class })
		@ConditionalOnClass(name = "io.lettuce.core.RedisClient")
		@Nullable LockRedisClient lockRedisClient(ConfigurableListableBeanFactory beanFactory, Environment environment) {
			BootRedisConnection connection = BootRedisConnection.find(beanFactory, beanFactory.getBeanClassLoader());
			if (connection == null) {
				return null;
			}
			Binder binder = Binder.get(environment);
			boolean ssl = binder.bind("spring.data.redis.ssl.enabled", Boolean.class).orElse(false)
					|| binder.bind("spring.data.redis.url", String.class)
						.map((url) -> url.startsWith("rediss:"))
						.orElse(false);
			return LockRedisClient.create(connection, ssl,
					binder.bind("spring.data.redis.client-name", String.class).orElse(null),
					binder.bind("spring.data.redis.connect-timeout", Duration.class).orElse(null));
		}

		@Bean(destroyMethod = "close")
		@ConditionalOnMissingBean(LockRegistry.class)
		RedisLockRegistry lockRegistry(LockProperties properties,
				ObjectProvider<RedisConnectionFactory> connectionFactory, Optional<LockRedisClient> ownClient) {
			// an own client (Jedis application) is injected, not looked up, so that the
			// registry is closed before it
			AbstractRedisClient client = ownClient.map(LockRedisClient::client)
				.orElseGet(() -> lettuceClient(connectionFactory));
			return RedisLockRegistry.builder(client)
				.keyPrefix(properties.getKeyPrefix())
				.defaultWaitTime(properties.getWaitTime())
				.defaultLeaseTime(properties.getLeaseTime())
				.maxKeyLength(properties.getMaxKeyLength())
				.commandTimeout(properties.getCommandTimeout())
				.recheckInterval(properties.getRecheckInterval())
				.spinWait(properties.getSpinWait())
				.awaitRelease(properties.isAwaitRelease())
				.minReplicas(properties.getRedis().getMinReplicas())
				.replicaTimeout(properties.getRedis().getReplicaTimeout())
				.build();
		}

		private static AbstractRedisClient lettuceClient(ObjectProvider<RedisConnectionFactory> connectionFactory) {
			RedisConnectionFactory factory = connectionFactory.getIfAvailable();
			if (factory == null) {
				throw new IllegalStateException(MISSING_REDIS_MESSAGE
					.formatted("there is no RedisConnectionFactory bean (or more than one " + "and none is primary)"));
			}
			if (!(factory instanceof LettuceConnectionFactory lettuce)) {
				throw new IllegalStateException(MISSING_REDIS_MESSAGE.formatted("the RedisConnectionFactory is a "
						+ factory.getClass().getName() + " and there are no Spring Boot Redis connection details "
						+ "to build a Lettuce client of the lock's own from (use Boot's spring.data.redis.* "
						+ "properties, or set spring.data.redis.client-type=lettuce, the default)"));
			}
			AbstractRedisClient client = lettuce.getNativeClient();
			if (client == null) {
				// created by start(), which runs early unless early start-up was turned
				// off
				lettuce.start();
				client = lettuce.getRequiredNativeClient();
			}
			return client;
		}

		@Bean
		@ConditionalOnBean(RedisLockRegistry.class)
		RedisLockRegistryLifecycle redisLockRegistryLifecycle(RedisLockRegistry registry) {
			return new RedisLockRegistryLifecycle(registry);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnMissingClass("org.springframework.data.redis.connection.RedisConnectionFactory")
	@ConditionalOnProperty(name = "lock.store", havingValue = "redis", matchIfMissing = true)
	static class MissingRedisConfiguration {

		@Bean
		@ConditionalOnMissingBean(LockRegistry.class)
		LockRegistry lockRegistry() {
			throw new IllegalStateException(
					MISSING_REDIS_MESSAGE.formatted("Spring Data Redis is not on the classpath"));
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnProperty(name = "lock.store", havingValue = "memory")
	static class MemoryStoreConfiguration {

		@Bean(destroyMethod = "close")
		@ConditionalOnMissingBean(LockRegistry.class)
		InMemoryLockRegistry lockRegistry(LockProperties properties) {
			logger.warn("lock.store=memory: @UserLock excludes only within this JVM. Do not run more than one "
					+ "instance of this application with it.");
			return new InMemoryLockRegistry(properties.getWaitTime(), properties.getLeaseTime(),
					properties.getMaxKeyLength());
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
	@ConditionalOnClass(
			name = { "org.springframework.web.servlet.DispatcherServlet", "org.springframework.http.ProblemDetail" })
	static class WebMvcConfiguration {

		@Bean
		@ConditionalOnMissingBean
		LockExceptionHandler lockExceptionHandler() {
			return new LockExceptionHandler();
		}

	}

	/**
	 * The same handler in a WebFlux application: it uses only spring-web types
	 * ({@code @RestControllerAdvice}, {@code ResponseEntity}, {@code ProblemDetail}),
	 * which WebFlux's {@code @ExceptionHandler} support handles as Spring MVC's does.
	 * WebFlux is named, never loaded, here.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
	@ConditionalOnClass(
			name = { "org.springframework.web.reactive.DispatcherHandler", "org.springframework.http.ProblemDetail" })
	static class WebFluxConfiguration {

		@Bean
		@ConditionalOnMissingBean
		LockExceptionHandler lockExceptionHandler() {
			return new LockExceptionHandler();
		}

	}

	/**
	 * Registers Spring's infrastructure auto-proxy creator unless a (more capable) one is
	 * there already.
	 */
	static class AutoProxyRegistrar implements ImportBeanDefinitionRegistrar {

		@Override
		public void registerBeanDefinitions(AnnotationMetadata importingClassMetadata,
				BeanDefinitionRegistry registry) {
			AopConfigUtils.registerAutoProxyCreatorIfNecessary(registry);
		}

	}

}
