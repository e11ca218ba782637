package io.github.userlock.autoconfigure;

import java.io.InputStream;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import io.github.userlock.LockHandle;
import io.github.userlock.LockRegistry;
import io.github.userlock.UserLock;
import io.github.userlock.aop.LockKeyResolver;
import io.github.userlock.aop.SpelLockKeyResolver;
import io.github.userlock.aop.UserLockAdvisor;
import io.github.userlock.memory.InMemoryLockRegistry;
import io.github.userlock.redis.RedisLockRegistry;
import io.github.userlock.test.BootRedis;
import io.github.userlock.test.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.aop.support.AopUtils;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.json.JsonParserFactory;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.core.Ordered;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.web.servlet.DispatcherServlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/** Every condition and property of {@link LockAutoConfiguration}. */
@Timeout(60)
@org.junit.jupiter.api.extension.ExtendWith(org.springframework.boot.test.system.OutputCaptureExtension.class)
class LockAutoConfigurationTests {

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension();

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class));

	private ApplicationContextRunner withRedis() {
		return new ApplicationContextRunner().withConfiguration(BootRedis.with(LockAutoConfiguration.class))
			.withPropertyValues("spring.data.redis.host=" + redis.server().host(),
					"spring.data.redis.port=" + redis.server().port());
	}

	@Test
	void defaultStoreWithoutConnectionFactoryFailsStartUpSayingWhatToDo() {
		this.runner.run((context) -> assertThat(context).getFailure()
			.rootCause()
			.isInstanceOf(IllegalStateException.class)
			.hasMessageContaining("lock.store=redis (the default) needs a Lettuce RedisConnectionFactory")
			.hasMessageContaining("there is no RedisConnectionFactory bean")
			.hasMessageContaining("spring-boot-starter-data-redis")
			.hasMessageContaining("lock.store=memory"));
	}

	@Test
	void defaultStoreWithoutSpringDataRedisFailsStartUpSayingWhatToDo() {
		this.runner.withClassLoader(new FilteredClassLoader(RedisConnectionFactory.class))
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("Spring Data Redis is not on the classpath")
				.hasMessageContaining("spring-boot-starter-data-redis")
				.hasMessageContaining("lock.store=memory"));
	}

	@Test
	void connectionFactoryThatIsNotLettuceFailsStartUpSayingWhatToDo() {
		// only its type matters: start-up fails before any method of it is called
		RedisConnectionFactory notLettuce = (RedisConnectionFactory) Proxy.newProxyInstance(getClass().getClassLoader(),
				new Class<?>[] { RedisConnectionFactory.class }, (proxy, method, args) -> {
					throw new UnsupportedOperationException(method.getName());
				});
		this.runner.withBean(RedisConnectionFactory.class, () -> notLettuce)
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("the RedisConnectionFactory is a " + notLettuce.getClass().getName())
				.hasMessageContaining("spring.data.redis.client-type=lettuce"));
	}

	@Test
	void redisStoreBuildsTheRegistryOnTheLettuceConnectionFactoryWithTheProperties() {
		withRedis()
			.withPropertyValues("lock.key-prefix=app-lock:", "lock.wait-time=250ms", "lock.lease-time=7s",
					"lock.max-key-length=64", "lock.await-release=false")
			.run((context) -> {
				assertThat(context).hasSingleBean(RedisLockRegistry.class).hasSingleBean(UserLockAdvisor.class);
				RedisLockRegistry registry = context.getBean(RedisLockRegistry.class);
				assertThat(registry.getKeyPrefix()).isEqualTo("app-lock:");
				assertThat(registry.isAwaitRelease()).as("the opt-in").isFalse();
				assertThat(registry.getDefaultWaitTime()).isEqualTo(Duration.ofMillis(250));
				assertThat(registry.getDefaultLeaseTime()).isEqualTo(Duration.ofSeconds(7));
				assertThat(registry.getMaxKeyBytes()).isEqualTo(64);
				try (LockHandle handle = registry.acquire("u1", Duration.ZERO)) {
					List<String> keys = redis.server().admin((commands) -> commands.keys("*"));
					assertThat(keys).anySatisfy((key) -> assertThat(key).startsWith("app-lock:").endsWith(":u1"));
					String lockKey = keys.stream().filter((key) -> key.endsWith(":u1")).findFirst().orElseThrow();
					Long pttl = redis.server().admin((commands) -> commands.pttl(lockKey));
					assertThat(pttl).isBetween(1L, 7000L);
				}
			});
	}

	@Test
	void releasesInFlightAtShutdownReachRedisBeforeTheClientStops(
			org.springframework.boot.test.system.CapturedOutput output) {
		// 150 ms each way: the releases are still in flight when the context closes
		var proxy = redis.newProxy().delay(Duration.ofMillis(150));
		new ApplicationContextRunner().withConfiguration(BootRedis.with(LockAutoConfiguration.class))
			.withPropertyValues("spring.data.redis.host=127.0.0.1", "spring.data.redis.port=" + proxy.port(),
					"lock.await-release=false", "lock.command-timeout=10s")
			.run((context) -> {
				RedisLockRegistry registry = context.getBean(RedisLockRegistry.class);
				for (int i = 0; i < 5; i++) {
					registry.acquire("shutdown-" + i, Duration.ofSeconds(1)).release();
				}
			});
		// the registry closed, waiting for the answers to its releases, before the
		// connection factory shut the
		// client down: no release failed for a closed connection
		assertThat(output).doesNotContain("Could not release lock 'shutdown-");
		proxy.pass();
		List<String> left = redis.server().admin((commands) -> commands.keys("*}:shutdown-*"));
		assertThat(left).isEmpty();
	}

	@Test
	void lockCallsAreBoundedByTheCommandTimeoutNotByAShorterConnectionFactoryTimeout() {
		withRedis().withPropertyValues("spring.data.redis.timeout=200ms", "lock.command-timeout=5s").run((context) -> {
			LockRegistry registry = context.getBean(LockRegistry.class);
			// connected and the scripts loaded before Redis holds every command
			registry.acquire("warm-up", Duration.ZERO).release();
			long pauseEnds = System.nanoTime() + Duration.ofMillis(800).toNanos();
			redis.server().admin((admin) -> admin.clientPause(800));
			// the driver's 200 ms would fail this call; the lock waits out the pause
			try (LockHandle handle = registry.acquire("paused-user", Duration.ofSeconds(5))) {
				assertThat(handle.isHeld()).isTrue();
				assertThat(System.nanoTime() - pauseEnds).as("granted only once the pause ended")
					.isGreaterThanOrEqualTo(-Duration.ofMillis(100).toNanos());
			}
		});
	}

	@Test
	void spinWaitIsTakenFromThePropertiesAndABadOneFailsTheStartNamingIt() {
		withRedis().withPropertyValues("lock.spin-wait=0").run((context) -> {
			try (LockHandle handle = context.getBean(LockRegistry.class).acquire("no-spin", Duration.ZERO)) {
				assertThat(handle.isHeld()).isTrue();
			}
		});
		withRedis().withPropertyValues("lock.spin-wait=5ms").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause()
				.hasMessageContaining("lock.spin-wait must be between 0 and 1000 µs, was PT0.005S");
		});
	}

	@Test
	void registryIsClosedWhenTheContextCloses() {
		RedisLockRegistry[] registry = new RedisLockRegistry[1];
		withRedis().run((context) -> {
			registry[0] = context.getBean(RedisLockRegistry.class);
			registry[0].acquire("before-close", Duration.ZERO).release();
		});
		assertThat(registry[0].isClosed()).isTrue();
		assertThatExceptionOfType(io.github.userlock.LockUnavailableException.class)
			.isThrownBy(() -> registry[0].acquire("after-close", Duration.ZERO))
			.withMessageContaining("closed");
	}

	@Test
	void memoryStoreUsesTheInMemoryRegistryWithTheProperties() {
		this.runner
			.withPropertyValues("lock.store=memory", "lock.wait-time=0", "lock.lease-time=5s", "lock.max-key-length=16")
			.run((context) -> {
				assertThat(context).hasSingleBean(InMemoryLockRegistry.class)
					.hasSingleBean(UserLockAdvisor.class)
					.hasSingleBean(SpelLockKeyResolver.class);
				InMemoryLockRegistry registry = context.getBean(InMemoryLockRegistry.class);
				assertThat(registry.getDefaultWaitTime()).isZero();
				assertThat(registry.getDefaultLeaseTime()).isEqualTo(Duration.ofSeconds(5));
				assertThat(registry.getMaxKeyBytes()).isEqualTo(16);
			});
	}

	@Test
	void storeNameIsCaseInsensitive() {
		this.runner.withPropertyValues("lock.store=MEMORY")
			.run((context) -> assertThat(context).hasSingleBean(InMemoryLockRegistry.class));
	}

	@Test
	void unknownStoreFailsStartUp() {
		this.runner.withPropertyValues("lock.store=redsi")
			.run((context) -> assertThat(context).getFailure()
				.hasStackTraceContaining("Failed to bind properties under 'lock.store'")
				.hasStackTraceContaining("redsi"));
	}

	@Test
	void userRegistryReplacesTheStoreWithoutNeedingRedis() {
		InMemoryLockRegistry own = new InMemoryLockRegistry();
		this.runner.withBean(LockRegistry.class, () -> own).run((context) -> {
			assertThat(context).hasNotFailed().hasSingleBean(LockRegistry.class).hasSingleBean(UserLockAdvisor.class);
			assertThat(context.getBean(LockRegistry.class)).isSameAs(own);
		});
	}

	@Test
	void userKeyResolverAndAdvisorReplaceTheDefaults() {
		LockKeyResolver resolver = (expressions, method, args, target, targetClass) -> List.of("fixed");
		UserLockAdvisor advisor = new UserLockAdvisor(new InMemoryLockRegistry(), resolver);
		this.runner.withPropertyValues("lock.store=memory")
			.withBean(LockKeyResolver.class, () -> resolver)
			.withBean("myAdvisor", UserLockAdvisor.class, () -> advisor)
			.run((context) -> {
				assertThat(context.getBean(LockKeyResolver.class)).isSameAs(resolver);
				assertThat(context.getBean(UserLockAdvisor.class)).isSameAs(advisor);
			});
	}

	@Test
	void customKeyResolverIsUsedForCalls() {
		LockKeyResolver resolver = (expressions, method, args, target, targetClass) -> List.of("fixed-key");
		this.runner.withPropertyValues("lock.store=memory")
			.withBean(LockKeyResolver.class, () -> resolver)
			.withBean(Locked.class)
			.run((context) -> {
				InMemoryLockRegistry registry = context.getBean(InMemoryLockRegistry.class);
				Locked locked = context.getBean(Locked.class);
				assertThat(locked.run("anyone",
						() -> CompletableFuture.supplyAsync(() -> registry.tryAcquire("fixed-key").map((h) -> {
							h.release();
							return false;
						}).orElse(true)).join()))
					.isTrue();
			});
	}

	@Test
	void disabledTurnsOffTheAdviceTheRegistryAndTheWebMapping() {
		new WebApplicationContextRunner().withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class))
			.withPropertyValues("lock.enabled=false")
			.withBean(Locked.class)
			.run((context) -> {
				assertThat(context).hasNotFailed()
					.doesNotHaveBean(UserLockAdvisor.class)
					.doesNotHaveBean(LockRegistry.class)
					.doesNotHaveBean(LockExceptionHandler.class);
				assertThat(AopUtils.isAopProxy(context.getBean(Locked.class))).isFalse();
			});
	}

	@Test
	void orderDefaultsToJustOutsideTransactionsAndIsConfigurable() {
		this.runner.withPropertyValues("lock.store=memory").run((context) -> {
			assertThat(context.getBean(UserLockAdvisor.class).getOrder()).isEqualTo(Ordered.LOWEST_PRECEDENCE - 10)
				.isEqualTo(UserLockAdvisor.DEFAULT_ORDER)
				.isEqualTo(new LockProperties().getOrder());
		});
		this.runner.withPropertyValues("lock.store=memory", "lock.order=42")
			.run((context) -> assertThat(context.getBean(UserLockAdvisor.class).getOrder()).isEqualTo(42));
	}

	@Test
	void annotatedBeansAreProxiedWithoutAnyOtherAopConfiguration() {
		this.runner.withPropertyValues("lock.store=memory").withBean(Locked.class).run((context) -> {
			Locked locked = context.getBean(Locked.class);
			assertThat(AopUtils.isAopProxy(locked)).isTrue();
			InMemoryLockRegistry registry = context.getBean(InMemoryLockRegistry.class);
			boolean lockedInside = locked.run("zoe",
					() -> CompletableFuture.supplyAsync(() -> registry.tryAcquire("zoe").isEmpty()).join());
			assertThat(lockedInside).isTrue();
		});
	}

	@Test
	void webApplicationGetsTheExceptionHandler() {
		new WebApplicationContextRunner().withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class))
			.withPropertyValues("lock.store=memory")
			.run((context) -> assertThat(context).hasSingleBean(LockExceptionHandler.class));
	}

	@Test
	void nonWebApplicationGetsNoExceptionHandler() {
		this.runner.withPropertyValues("lock.store=memory")
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(LockExceptionHandler.class));
	}

	@Test
	void webApplicationWithoutSpringMvcGetsNoExceptionHandler() {
		new WebApplicationContextRunner().withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class))
			.withPropertyValues("lock.store=memory")
			.withClassLoader(new FilteredClassLoader(DispatcherServlet.class))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(LockExceptionHandler.class));
	}

	@Test
	void reactiveWebApplicationGetsTheExceptionHandler() {
		new ReactiveWebApplicationContextRunner().withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class))
			.withPropertyValues("lock.store=memory")
			.run((context) -> assertThat(context).hasSingleBean(LockExceptionHandler.class));
	}

	@Test
	void reactiveWebApplicationWithoutWebFluxGetsNoExceptionHandler() {
		new ReactiveWebApplicationContextRunner().withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class))
			.withPropertyValues("lock.store=memory")
			.withClassLoader(new FilteredClassLoader("org.springframework.web.reactive"))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(LockExceptionHandler.class));
	}

	@Test
	void servletWebApplicationWithoutWebFluxGetsTheExceptionHandler() {
		new WebApplicationContextRunner().withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class))
			.withPropertyValues("lock.store=memory")
			.withClassLoader(new FilteredClassLoader("org.springframework.web.reactive", "reactor.netty"))
			.run((context) -> assertThat(context).hasSingleBean(LockExceptionHandler.class));
	}

	@Test
	void userExceptionHandlerBeanReplacesTheDefaultInAReactiveWebApplication() {
		LockExceptionHandler own = new LockExceptionHandler();
		new ReactiveWebApplicationContextRunner().withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class))
			.withPropertyValues("lock.store=memory")
			.withBean("ownHandler", LockExceptionHandler.class, () -> own)
			.run((context) -> assertThat(context.getBean(LockExceptionHandler.class)).isSameAs(own));
	}

	@Test
	void userExceptionHandlerBeanReplacesTheDefault() {
		LockExceptionHandler own = new LockExceptionHandler();
		new WebApplicationContextRunner().withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class))
			.withPropertyValues("lock.store=memory")
			.withBean("ownHandler", LockExceptionHandler.class, () -> own)
			.run((context) -> assertThat(context.getBean(LockExceptionHandler.class)).isSameAs(own));
	}

	@Test
	void worksWithoutReactorOnTheClasspath() {
		this.runner.withPropertyValues("lock.store=memory")
			.withClassLoader(new FilteredClassLoader("reactor.core"))
			.withBean(Locked.class)
			.run((context) -> {
				assertThat(context).hasNotFailed();
				InMemoryLockRegistry registry = context.getBean(InMemoryLockRegistry.class);
				Locked locked = context.getBean(Locked.class);
				assertThat(locked.run("yan",
						() -> CompletableFuture.supplyAsync(() -> registry.tryAcquire("yan").isEmpty()).join()))
					.isTrue();
				CompletableFuture<String> work = new CompletableFuture<>();
				CompletableFuture<String> result = locked.async("yan", work);
				assertThat(CompletableFuture.supplyAsync(() -> registry.tryAcquire("yan").isEmpty()).join()).isTrue();
				work.complete("ok");
				assertThat(result.join()).isEqualTo("ok");
				assertThat(CompletableFuture.supplyAsync(() -> registry.tryAcquire("yan").map((h) -> {
					h.release();
					return true;
				}).orElse(false)).join()).isTrue();
			});
	}

	@Test
	void everyPropertyHasADescriptionAndTheDocumentedDefault() throws Exception {
		Map<String, Object> metadata;
		try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
			// Boot's own parser: the same on every Boot line (Jackson 2 on 3.5, 3 on 4.x)
			metadata = JsonParserFactory.getJsonParser()
				.parseMap(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
		}
		Map<String, String> defaults = new java.util.TreeMap<>();
		for (Object entry : (List<?>) metadata.get("properties")) {
			Map<?, ?> property = (Map<?, ?>) entry;
			String name = (String) property.get("name");
			if (name.startsWith("lock.")) {
				assertThat((String) property.get("description")).as(name).isNotBlank();
				Object value = property.get("defaultValue");
				// numbers come back as doubles from some parsers: 512, not 512.0
				defaults.put(name,
						(value instanceof Number number)
								? new java.math.BigDecimal(number.toString()).stripTrailingZeros().toPlainString()
								: String.valueOf(value));
			}
		}
		assertThat(defaults).containsExactlyInAnyOrderEntriesOf(
				Map.ofEntries(Map.entry("lock.enabled", "true"), Map.entry("lock.store", "redis"),
						Map.entry("lock.key-prefix", "user-lock:"), Map.entry("lock.wait-time", "3s"),
						Map.entry("lock.lease-time", "30s"), Map.entry("lock.max-key-length", "512"),
						Map.entry("lock.order", "2147483637"), Map.entry("lock.command-timeout", "2s"),
						Map.entry("lock.recheck-interval", "1s"), Map.entry("lock.await-release", "true"),
						Map.entry("lock.spin-wait", "200000ns"), Map.entry("lock.redis.min-replicas", "0"),
						Map.entry("lock.redis.replica-timeout", "500ms"), Map.entry("lock.metrics.enabled", "true")));
	}

	/** A bean with locked methods that does not need Reactor. */
	public static class Locked {

		@UserLock(key = "#uid", waitTime = "0")
		public <T> T run(String uid, java.util.function.Supplier<T> action) {
			return action.get();
		}

		@UserLock(key = "#uid", waitTime = "0")
		public CompletableFuture<String> async(String uid, CompletableFuture<String> work) {
			return work;
		}

	}

}
