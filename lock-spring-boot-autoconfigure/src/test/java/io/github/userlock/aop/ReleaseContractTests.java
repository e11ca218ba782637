package io.github.userlock.aop;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.userlock.LockConflictException;
import io.github.userlock.test.BootRedis;
import io.github.userlock.LockHandle;
import io.github.userlock.LockRegistry;
import io.github.userlock.UserLock;
import io.github.userlock.autoconfigure.LockAutoConfiguration;
import io.github.userlock.test.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The release contract of the defaults, as users rely on it: once {@code release()} or
 * the annotated method has returned, the key is free for every instance, at once. Three
 * application contexts with Spring Boot's Redis auto-configuration on one real
 * redis-server are three instances of the application.
 */
@Timeout(120)
class ReleaseContractTests {

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension();

	private final ExecutorService executor = Executors.newCachedThreadPool();

	@AfterEach
	void shutdown() {
		this.executor.shutdownNow();
	}

	private ApplicationContextRunner instance() {
		return new ApplicationContextRunner().withConfiguration(BootRedis.with(LockAutoConfiguration.class))
			.withPropertyValues("spring.data.redis.host=" + redis.server().host(),
					"spring.data.redis.port=" + redis.server().port())
			.withUserConfiguration(Config.class);
	}

	/** Runs {@code test} with three started instances. */
	private void threeInstances(ThreeInstances test) {
		ApplicationContextRunner runner = instance();
		runner.run((a) -> runner.run((b) -> runner.run((c) -> {
			assertThat(List.of(a, b, c)).allSatisfy((context) -> assertThat(context).hasNotFailed());
			test.accept(List.of(a, b, c));
		})));
	}

	@Test
	void sequentialNoWaitCallsRoundRobinOverThreeInstancesNeverConflict() {
		threeInstances((instances) -> {
			int conflicts = 0;
			for (int i = 0; i < 600; i++) {
				Redeemer redeemer = instances.get(i % 3).getBean(Redeemer.class);
				try {
					redeemer.redeem("alice");
				}
				catch (LockConflictException ex) {
					conflicts++;
				}
			}
			assertThat(conflicts).as("no-wait calls that conflicted although the previous call had returned").isZero();
			int runs = instances.stream().mapToInt((context) -> context.getBean(Redeemer.class).runs()).sum();
			assertThat(runs).isEqualTo(600);
		});
	}

	@Test
	void anInnerReleaseKeepsTheKeyAndTheOuterReleaseFreesItEverywhereAtOnce() {
		threeInstances((instances) -> {
			LockRegistry a = instances.get(0).getBean(LockRegistry.class);
			LockRegistry b = instances.get(1).getBean(LockRegistry.class);
			LockRegistry c = instances.get(2).getBean(LockRegistry.class);
			for (int i = 0; i < 50; i++) {
				LockHandle outer = a.acquire("reentered", Duration.ZERO);
				LockHandle inner = a.acquire("reentered", Duration.ZERO);
				inner.release();
				assertThat(b.tryAcquire("reentered")).as("round %d: held by the outer handle", i).isEmpty();
				outer.release();
				Optional<LockHandle> next = b.tryAcquire("reentered");
				assertThat(next).as("round %d: right after the outer release", i).isPresent();
				next.get().release();
				Optional<LockHandle> third = c.tryAcquire("reentered");
				assertThat(third).as("round %d: right after the other instance's release", i).isPresent();
				third.get().release();
			}
		});
	}

	@Test
	void aHandleReleasedOnAnotherThreadIsFreeEverywhereWhenReleaseReturns() {
		threeInstances((instances) -> {
			LockRegistry a = instances.get(0).getBean(LockRegistry.class);
			LockRegistry b = instances.get(1).getBean(LockRegistry.class);
			for (int i = 0; i < 50; i++) {
				LockHandle handle = a.acquire("handed", Duration.ZERO);
				this.executor.submit((Runnable) handle::release).get(10, TimeUnit.SECONDS);
				Optional<LockHandle> next = b.tryAcquire("handed");
				assertThat(next).as("round %d: right after release() returned on another thread", i).isPresent();
				next.get().release();
			}
		});
	}

	@FunctionalInterface
	interface ThreeInstances {

		void accept(List<AssertableApplicationContext> instances) throws Exception;

	}

	@Configuration(proxyBeanMethods = false)
	static class Config {

		@Bean
		Redeemer redeemer() {
			return new Redeemer();
		}

	}

	public static class Redeemer {

		final AtomicInteger runs = new AtomicInteger();

		@UserLock(key = "#uid", waitTime = "0")
		public void redeem(String uid) {
			this.runs.incrementAndGet();
		}

		public int runs() {
			return this.runs.get();
		}

	}

}
