package io.github.userlock.aop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockUnavailableException;
import io.github.userlock.UserLock;
import io.github.userlock.autoconfigure.LockAutoConfiguration;
import io.github.userlock.redis.RedisLockRegistry;
import io.github.userlock.test.FaultProxy;
import io.github.userlock.test.BootRedis;
import io.github.userlock.test.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.SimpleDriverDataSource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Two application contexts, each with its own Lettuce client from Spring Boot's Redis
 * auto-configuration, on one real redis-server: two instances of the application calling
 * the same annotated methods.
 */
@Timeout(120)
class UserLockRedisIntegrationTests {

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension();

	private final ExecutorService executor = Executors.newCachedThreadPool();

	private String database = "";

	@BeforeEach
	void reset() {
		Shared.reset();
		this.database = "jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
		new JdbcTemplate(new SimpleDriverDataSource(new org.h2.Driver(), this.database))
			.execute("create table balance (uid varchar(64) primary key, amount int)");
	}

	@AfterEach
	void shutdown() {
		this.executor.shutdownNow();
	}

	private ApplicationContextRunner instance(int port) {
		return new ApplicationContextRunner().withConfiguration(BootRedis.with(LockAutoConfiguration.class))
			.withPropertyValues("spring.data.redis.host=" + redis.server().host(), "spring.data.redis.port=" + port,
					"test.database=" + this.database)
			.withUserConfiguration(Config.class);
	}

	/** Runs {@code test} with two started instances on the test's redis-server. */
	private void twoInstances(TwoInstances test) {
		ApplicationContextRunner runner = instance(redis.server().port());
		runner.run((a) -> runner.run((b) -> {
			assertThat(a).hasNotFailed();
			assertThat(b).hasNotFailed();
			assertThat(a.getBean(RedisLockRegistry.class)).isNotSameAs(b.getBean(RedisLockRegistry.class));
			test.accept(a.getBean(Service.class), b.getBean(Service.class), a);
		}));
	}

	@Test
	void sameUserOnTwoInstancesAtOnceOneRunsTheOtherConflicts() {
		twoInstances((a, b, context) -> {
			Future<String> first = this.executor.submit(() -> a.hold("alice"));
			assertThat(Shared.entered.await(10, TimeUnit.SECONDS)).isTrue();
			assertThatExceptionOfType(LockConflictException.class).isThrownBy(() -> b.noWait("alice"));
			assertThat(Shared.noWaitRuns).hasValue(0);
			Shared.proceed.countDown();
			assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("held alice");
			assertRunsOnceTheReleaseLanded(b, "alice");
		});
	}

	/**
	 * A no-wait call on {@code other} right after a call for {@code uid} returned on the
	 * first instance runs at once: by default the advice returns only after Redis
	 * confirmed the release.
	 */
	private static void assertRunsOnceTheReleaseLanded(Service other, String uid) {
		assertThat(other.noWait(uid)).isEqualTo("ran " + uid);
	}

	@Test
	void sameUserOnTwoInstancesNeverRunsConcurrently() {
		twoInstances((a, b, context) -> {
			List<Future<?>> calls = new ArrayList<>();
			for (int i = 0; i < 40; i++) {
				Service instance = (i % 2 == 0) ? a : b;
				calls.add(this.executor.submit(() -> instance.waitFor("bob")));
			}
			for (Future<?> call : calls) {
				call.get(60, TimeUnit.SECONDS);
			}
			assertThat(Shared.waitForRuns).hasValue(40);
			assertThat(Shared.maxConcurrent).hasValue(1);
		});
	}

	@Test
	void differentUsersOnTwoInstancesRunInParallel() {
		twoInstances((a, b, context) -> {
			CountDownLatch bothInside = new CountDownLatch(2);
			Future<?> first = this.executor.submit(() -> {
				a.meet("u1", bothInside);
				return null;
			});
			Future<?> second = this.executor.submit(() -> {
				b.meet("u2", bothInside);
				return null;
			});
			first.get(20, TimeUnit.SECONDS);
			second.get(20, TimeUnit.SECONDS);
			assertThat(bothInside.getCount()).isZero();
		});
	}

	@Test
	void transfersInOppositeDirectionsOnTwoInstancesDoNotDeadlock() {
		twoInstances((a, b, context) -> {
			int rounds = 100;
			Future<?> forward = this.executor.submit(() -> {
				for (int i = 0; i < rounds; i++) {
					a.transfer("acc-1", "acc-2");
				}
			});
			Future<?> backward = this.executor.submit(() -> {
				for (int i = 0; i < rounds; i++) {
					b.transfer("acc-2", "acc-1");
				}
			});
			forward.get(60, TimeUnit.SECONDS);
			backward.get(60, TimeUnit.SECONDS);
			assertThat(Shared.transfers).hasValue(2 * rounds);
			assertThat(Shared.maxConcurrent).hasValue(1);
		});
	}

	@Test
	void asyncMethodHoldsTheLockAcrossInstancesUntilItsFutureCompletes() {
		twoInstances((a, b, context) -> {
			CompletableFuture<String> work = new CompletableFuture<>();
			CompletableFuture<String> result = a.async("carol", work);
			assertThatExceptionOfType(LockConflictException.class).isThrownBy(() -> b.noWait("carol"));
			work.complete("done");
			assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo("done");
			assertRunsOnceTheReleaseLanded(b, "carol");
		});
	}

	@Test
	void nestedCallReentersOnRedis() {
		twoInstances((a, b, context) -> {
			assertThat(a.outer("dave")).isEqualTo("inner dave");
			assertRunsOnceTheReleaseLanded(b, "dave");
		});
	}

	@Test
	void holdAtLeastRefusesAQuickDuplicateFromTheOtherInstance() {
		twoInstances((a, b, context) -> {
			assertThat(a.once("erin")).isEqualTo(1);
			assertThatExceptionOfType(LockConflictException.class).isThrownBy(() -> b.once("erin"));
			assertThat(Shared.onceRuns).hasValue(1);
		});
	}

	@Test
	void nullOrBlankKeyIsRejectedWithoutAnyRedisCall() {
		twoInstances((a, b, context) -> {
			long scriptCalls = redis.server().commandCalls("evalsha") + redis.server().commandCalls("eval");
			assertThatIllegalArgumentException().isThrownBy(() -> a.noWait(null)).withMessageContaining("'#uid'");
			assertThatIllegalArgumentException().isThrownBy(() -> b.noWait(" ")).withMessageContaining("blank");
			assertThat(redis.server().commandCalls("evalsha") + redis.server().commandCalls("eval"))
				.isEqualTo(scriptCalls);
			assertThat(Shared.noWaitRuns).hasValue(0);
		});
	}

	@Test
	void nextHolderOnEitherInstanceSeesTheCommittedValue() {
		twoInstances((a, b, context) -> {
			List<Future<?>> calls = new ArrayList<>();
			for (int i = 0; i < 60; i++) {
				Service instance = (i % 2 == 0) ? a : b;
				calls.add(this.executor.submit(() -> instance.increment("frank")));
			}
			for (Future<?> call : calls) {
				call.get(60, TimeUnit.SECONDS);
			}
			assertThat(context.getBean(JdbcTemplate.class)
				.queryForObject("select amount from balance where uid = ?", Integer.class, "frank")).isEqualTo(60);
		});
	}

	@Test
	void unreachableRedisFailsClosedWithoutRunningTheMethod() throws Exception {
		try (FaultProxy proxy = FaultProxy.to(redis.server())) {
			instance(proxy.port()).withPropertyValues("lock.command-timeout=1s").run((context) -> {
				Service service = context.getBean(Service.class);
				assertThat(service.noWait("gina")).isEqualTo("ran gina");
				proxy.blackhole();
				assertThatExceptionOfType(LockUnavailableException.class).isThrownBy(() -> service.noWait("gina"));
				assertThat(Shared.noWaitRuns).hasValue(1);
				proxy.pass();
			});
		}
	}

	@FunctionalInterface
	interface TwoInstances {

		void accept(Service a, Service b, AssertableApplicationContext context) throws Exception;

	}

	/**
	 * State shared by both instances (one JVM), so that the test sees what ran where and
	 * when.
	 */
	static final class Shared {

		static CountDownLatch entered = new CountDownLatch(1);

		static CountDownLatch proceed = new CountDownLatch(1);

		static final AtomicInteger noWaitRuns = new AtomicInteger();

		static final AtomicInteger waitForRuns = new AtomicInteger();

		static final AtomicInteger onceRuns = new AtomicInteger();

		static final AtomicInteger transfers = new AtomicInteger();

		static final AtomicInteger concurrent = new AtomicInteger();

		static final AtomicInteger maxConcurrent = new AtomicInteger();

		static void reset() {
			entered = new CountDownLatch(1);
			proceed = new CountDownLatch(1);
			noWaitRuns.set(0);
			waitForRuns.set(0);
			onceRuns.set(0);
			transfers.set(0);
			concurrent.set(0);
			maxConcurrent.set(0);
		}

		static void enter() {
			maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
		}

		static void leave() {
			concurrent.decrementAndGet();
		}

	}

	@Configuration(proxyBeanMethods = false)
	@EnableTransactionManagement
	static class Config {

		@Bean
		DataSource dataSource(org.springframework.core.env.Environment environment) {
			return new SimpleDriverDataSource(new org.h2.Driver(), environment.getRequiredProperty("test.database"));
		}

		@Bean
		JdbcTemplate jdbcTemplate(DataSource dataSource) {
			return new JdbcTemplate(dataSource);
		}

		@Bean
		PlatformTransactionManager transactionManager(DataSource dataSource) {
			return new DataSourceTransactionManager(dataSource);
		}

		@Bean
		Inner inner() {
			return new Inner();
		}

		@Bean
		Service service(JdbcTemplate jdbc, Inner inner) {
			return new Service(jdbc, inner);
		}

	}

	public static class Inner {

		@UserLock(key = "#uid", waitTime = "0")
		public String inner(String uid) {
			return "inner " + uid;
		}

	}

	public static class Service {

		private final JdbcTemplate jdbc;

		private final Inner inner;

		Service(JdbcTemplate jdbc, Inner inner) {
			this.jdbc = jdbc;
			this.inner = inner;
		}

		@UserLock(key = "#uid", waitTime = "10s")
		public String hold(String uid) throws InterruptedException {
			Shared.entered.countDown();
			assertThat(Shared.proceed.await(30, TimeUnit.SECONDS)).isTrue();
			return "held " + uid;
		}

		@UserLock(key = "#uid", waitTime = "0")
		public String noWait(String uid) {
			Shared.noWaitRuns.incrementAndGet();
			return "ran " + uid;
		}

		@UserLock(key = "#uid", waitTime = "30s")
		public void waitFor(String uid) {
			Shared.enter();
			try {
				Shared.waitForRuns.incrementAndGet();
			}
			finally {
				Shared.leave();
			}
		}

		@UserLock(key = "#uid", waitTime = "0")
		public void meet(String uid, CountDownLatch bothInside) throws InterruptedException {
			bothInside.countDown();
			assertThat(bothInside.await(10, TimeUnit.SECONDS)).isTrue();
		}

		@UserLock(key = { "#from", "#to" }, waitTime = "30s")
		public void transfer(String from, String to) {
			Shared.enter();
			try {
				Shared.transfers.incrementAndGet();
			}
			finally {
				Shared.leave();
			}
		}

		@UserLock(key = "#uid", waitTime = "0")
		public CompletableFuture<String> async(String uid, CompletableFuture<String> work) {
			return work;
		}

		@UserLock(key = "#uid", waitTime = "0")
		public String outer(String uid) {
			return this.inner.inner(uid);
		}

		@UserLock(key = "#uid", waitTime = "0", holdAtLeast = "5s")
		public int once(String uid) {
			return Shared.onceRuns.incrementAndGet();
		}

		@UserLock(key = "#uid", waitTime = "30s")
		@Transactional
		public void increment(String uid) {
			BalanceRows.increment(this.jdbc, uid);
		}

	}

}
