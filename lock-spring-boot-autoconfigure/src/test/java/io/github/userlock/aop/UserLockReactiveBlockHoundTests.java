package io.github.userlock.aop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockHandle;
import io.github.userlock.LockRegistry;
import io.github.userlock.UserLock;
import io.github.userlock.autoconfigure.LockAutoConfiguration;
import io.github.userlock.test.BlockHoundTest;
import io.github.userlock.test.BootRedis;
import io.github.userlock.test.RedisServerExtension;
import io.micrometer.context.ContextRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.blockhound.BlockHound;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.util.context.Context;

import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.ReactiveRedisConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Reactive {@code @UserLock} methods never block: BlockHound is installed, so any
 * blocking call on a non-blocking thread (Reactor's parallel scheduler, Netty's and so
 * Lettuce's event loops) fails the call. Two application contexts on one real
 * redis-server act as two instances.
 */
@BlockHoundTest
@Timeout(120)
class UserLockReactiveBlockHoundTests {

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension();

	private static final ThreadLocal<String> TRACE = new ThreadLocal<>();

	@BeforeAll
	static void installBlockHound() {
		BlockHound.install();
		ContextRegistry.getInstance().registerThreadLocalAccessor("test.trace", TRACE);
	}

	@BeforeEach
	void reset() {
		Shared.reset();
	}

	private ApplicationContextRunner instance() {
		return new ApplicationContextRunner().withConfiguration(BootRedis.with(LockAutoConfiguration.class))
			.withPropertyValues("spring.data.redis.host=" + redis.server().host(),
					"spring.data.redis.port=" + redis.server().port(), "lock.wait-time=60s")
			.withUserConfiguration(Config.class);
	}

	@Test
	void thousandConcurrentMonosOverTwentyHotKeysFromTwoInstancesNeverBlockNorOverlap() {
		instance().run((first) -> instance().run((second) -> {
			Points a = first.getBean(Points.class);
			Points b = second.getBean(Points.class);
			List<Mono<Integer>> calls = new ArrayList<>();
			for (int i = 0; i < 1000; i++) {
				Points points = (i % 2 == 0) ? a : b;
				String user = "user-" + (i % 20);
				calls.add(Mono.defer(() -> points.add(user)).subscribeOn(Schedulers.parallel()));
			}
			List<Integer> results = Flux.merge(calls).collectList().block(Duration.ofSeconds(90));
			assertThat(results).hasSize(1000);
			assertThat(Shared.blockingErrors).isEmpty();
			assertThat(Shared.overlaps).hasValue(0);
			// no lost update: each user's balance counts every call
			assertThat(Shared.balances).hasSize(20);
			assertThat(Shared.balances.values()).allMatch((balance) -> balance == 50);
		}));
	}

	@Test
	void aSingleThreadSchedulerStaysResponsiveWhileItsSubscriberWaitsForAHeldLock() {
		instance().run((context) -> {
			Points points = context.getBean(Points.class);
			LockRegistry registry = context.getBean(LockRegistry.class);
			Scheduler single = Schedulers.newSingle("one-thread");
			try {
				// warm up the path once (class loading, first connection use) on that
				// thread
				assertThat(
						Mono.defer(() -> points.add("warm-up-user")).subscribeOn(single).block(Duration.ofSeconds(10)))
					.isEqualTo(1);
				LockHandle holder = registry.acquire("held-user", Duration.ofSeconds(1));
				Mono<Integer> waiting = Mono.defer(() -> points.add("held-user")).subscribeOn(single);
				java.util.concurrent.CompletableFuture<Integer> result = waiting.toFuture();
				// the subscriber waits for the lock; the scheduler's only thread must be
				// free
				// free: 10 tasks, 100 ms apart, each runs within 50 ms
				long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
				List<Long> delays = new ArrayList<>();
				while (System.nanoTime() - end < 0) {
					long scheduledAt = System.nanoTime();
					CountDownLatch ran = new CountDownLatch(1);
					AtomicReference<Long> delay = new AtomicReference<>();
					single.schedule(() -> {
						delay.set(System.nanoTime() - scheduledAt);
						ran.countDown();
					});
					assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
					delays.add(delay.get());
					// the next probe, 100 ms on: a timed wait, not synchronisation
					assertThat(new CountDownLatch(1).await(100, TimeUnit.MILLISECONDS)).isFalse();
				}
				assertThat(delays).hasSizeGreaterThanOrEqualTo(5)
					.allSatisfy((nanos) -> assertThat(Duration.ofNanos(nanos)).isLessThan(Duration.ofMillis(50)));
				assertThat(result).as("still waiting for the held lock").isNotDone();
				holder.release();
				assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo(1);
			}
			finally {
				single.dispose();
			}
		});
	}

	@Test
	void aLockedMonoSubscribedOnALettuceIoThreadDoesNotDeadlock() {
		instance().run((context) -> {
			Points points = context.getBean(Points.class);
			ReactiveStringRedisTemplate template = new ReactiveStringRedisTemplate(
					context.getBean(ReactiveRedisConnectionFactory.class));
			AtomicReference<String> subscribedOn = new AtomicReference<>();
			// a blocking pop answered only once the subscription is in place, so the
			// name is emitted on the Lettuce I/O thread, never on the subscribing one
			java.util.concurrent.CompletableFuture<Integer> balance = template.opsForList()
				.leftPop("io-thread-user-names", Duration.ofSeconds(10))
				.doOnNext((name) -> subscribedOn.set(Thread.currentThread().getName()))
				.flatMap(points::add)
				.toFuture();
			template.opsForList().rightPush("io-thread-user-names", "io-user").block(Duration.ofSeconds(10));
			assertThat(balance.get(20, TimeUnit.SECONDS)).isEqualTo(1);
			assertThat(subscribedOn.get()).contains("lettuce");
			assertThat(Shared.blockingErrors).isEmpty();
		});
	}

	@Test
	void cancellingDuringAcquisitionReleasesAndEachSubscriptionLocksAgain() {
		instance().run((context) -> {
			Points points = context.getBean(Points.class);
			LockRegistry registry = context.getBean(LockRegistry.class);
			LockHandle holder = registry.acquire("cancel-user", Duration.ofSeconds(1));
			reactor.core.Disposable subscription = points.add("cancel-user").subscribe();
			subscription.dispose();
			holder.release();
			// nothing is held for the cancelled call
			LockHandle free = registry.tryAcquire("cancel-user").orElseThrow();
			free.release();
			Mono<Integer> twice = points.add("cancel-user");
			assertThat(twice.block(Duration.ofSeconds(10))).isEqualTo(1);
			assertThat(twice.block(Duration.ofSeconds(10))).isEqualTo(2);
			assertThat(Shared.calls).hasValue(2);
		});
	}

	@Test
	void conflictFailsTheMonoWithoutBlocking() {
		instance().run((context) -> {
			Points points = context.getBean(Points.class);
			LockRegistry registry = context.getBean(LockRegistry.class);
			try (LockHandle holder = registry.acquire("busy-user", Duration.ofSeconds(1))) {
				assertThatExceptionOfType(LockConflictException.class)
					.isThrownBy(() -> Mono.defer(() -> points.addNoWait("busy-user"))
						.subscribeOn(Schedulers.parallel())
						.block(Duration.ofSeconds(10)));
			}
			assertThat(Shared.blockingErrors).isEmpty();
		});
	}

	@Test
	void theReactorContextAndPropagatedThreadLocalsReachTheLockedMethod() {
		instance().run((context) -> {
			Points points = context.getBean(Points.class);
			LockRegistry registry = context.getBean(LockRegistry.class);
			Hooks.enableAutomaticContextPropagation();
			try {
				LockHandle holder = registry.acquire("trace-user", Duration.ofSeconds(1));
				// the lock is granted later, on a registry thread: the context must
				// follow
				java.util.concurrent.CompletableFuture<String> seen = points.whoAmI("trace-user")
					.contextWrite(Context.of("caller", "alice", "test.trace", "trace-42"))
					.subscribeOn(Schedulers.parallel())
					.toFuture();
				assertThat(seen).isNotDone();
				holder.release();
				assertThat(seen.get(10, TimeUnit.SECONDS)).isEqualTo("alice/trace-42");
			}
			finally {
				Hooks.disableAutomaticContextPropagation();
			}
		});
	}

	@Configuration(proxyBeanMethods = false)
	static class Config {

		@Bean
		Points points() {
			return new Points();
		}

	}

	/** What the two instances share: the "database" they update. */
	static final class Shared {

		static final Map<String, Integer> balances = new ConcurrentHashMap<>();

		static final Map<String, AtomicInteger> inside = new ConcurrentHashMap<>();

		static final AtomicInteger overlaps = new AtomicInteger();

		static final AtomicInteger calls = new AtomicInteger();

		static final List<Throwable> blockingErrors = new java.util.concurrent.CopyOnWriteArrayList<>();

		static void reset() {
			balances.clear();
			inside.clear();
			overlaps.set(0);
			calls.set(0);
			blockingErrors.clear();
		}

	}

	static class Points {

		/**
		 * Read, a pause on the parallel scheduler, write: loses updates without the lock.
		 */
		@UserLock(key = "#user")
		public Mono<Integer> add(String user) {
			AtomicInteger inside = Shared.inside.computeIfAbsent(user, (k) -> new AtomicInteger());
			return Mono.fromCallable(() -> {
				Shared.calls.incrementAndGet();
				if (inside.incrementAndGet() != 1) {
					Shared.overlaps.incrementAndGet();
				}
				return Shared.balances.getOrDefault(user, 0);
			}).delayElement(Duration.ofMillis(1)).map((read) -> {
				Shared.balances.put(user, read + 1);
				inside.decrementAndGet();
				return read + 1;
			}).doOnError((ex) -> {
				if (ex instanceof reactor.blockhound.BlockingOperationError) {
					Shared.blockingErrors.add(ex);
				}
			});
		}

		@UserLock(key = "#user", waitTime = "0s")
		public Mono<Integer> addNoWait(String user) {
			return add(user);
		}

		@UserLock(key = "#user")
		public Mono<String> whoAmI(String user) {
			return Mono.deferContextual((context) -> Mono.just(context.get("caller") + "/" + TRACE.get()));
		}

	}

}
