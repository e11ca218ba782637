package io.github.userlock.redis;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import io.github.userlock.LockHandle;
import io.github.userlock.test.BootRedis;
import io.github.userlock.LockRegistry;
import io.github.userlock.LockUnavailableException;
import io.github.userlock.autoconfigure.LockAutoConfiguration;
import io.github.userlock.test.RedisServer;
import io.github.userlock.test.SentinelRig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * A Sentinel failover under held locks and a waiter, through Boot's Sentinel-configured
 * connection factory: the master is killed, the sentinels promote the replica, and the
 * same registries carry on.
 */
@Timeout(90)
class RedisLockRegistrySentinelFailoverTests {

	private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(2);

	private static SentinelRig rig;

	private final ExecutorService executor = Executors.newCachedThreadPool();

	@BeforeAll
	static void startRig() {
		rig = SentinelRig.start();
	}

	@AfterAll
	static void stopRig() {
		if (rig != null) {
			rig.close();
		}
	}

	@AfterEach
	void stopThreads() {
		this.executor.shutdownNow();
	}

	@Test
	void callsFailFastDuringTheSwitchThenTheRegistryWorksOnTheNewMasterWakesWaitersAndReportsLocksItLost() {
		ApplicationContextRunner runner = new ApplicationContextRunner()
			.withConfiguration(BootRedis.with(LockAutoConfiguration.class))
			.withPropertyValues("spring.data.redis.sentinel.master=" + SentinelRig.MASTER_NAME,
					"spring.data.redis.sentinel.nodes=" + rig.sentinelNodes(),
					"lock.command-timeout=" + COMMAND_TIMEOUT.toMillis() + "ms", "lock.lease-time=20s",
					// waiters are woken by messages and re-subscriptions only
					"lock.recheck-interval=1m");
		runner.run((a) -> runner.run((b) -> {
			assertThat(a).hasNotFailed();
			assertThat(b).hasNotFailed();
			failover(a.getBean(RedisLockRegistry.class), b.getBean(RedisLockRegistry.class));
		}));
	}

	private void failover(RedisLockRegistry holder, LockRegistry other) throws Exception {
		RedisServer oldMaster = rig.master();
		String survivorKey = holder.storeKey("", "survivor");
		LockHandle survivor = holder.acquire("survivor", Duration.ofSeconds(5));
		CountDownLatch survivorLost = new CountDownLatch(1);
		survivor.onLost((handle) -> survivorLost.countDown());
		CompletableFuture<Long> waiter = CompletableFuture.supplyAsync(() -> {
			try (LockHandle next = other.acquire("survivor", Duration.ofSeconds(60))) {
				return next.fencingToken();
			}
		}, this.executor);
		// the waiter marked the key, and the replica has the lock and the mark
		await().atMost(Duration.ofSeconds(10)).until(() -> oldMaster.admin((c) -> c.strlen(survivorKey)) == 33);
		SentinelRig.awaitReplicated(oldMaster);

		// from now on the replica receives nothing: a lock taken now is not on the
		// replica that will be promoted
		rig.replicationLink().blackhole();
		LockHandle unreplicated = holder.acquire("unreplicated", Duration.ofSeconds(5));
		CountDownLatch unreplicatedLost = new CountDownLatch(1);
		unreplicated.onLost((handle) -> unreplicatedLost.countDown());

		oldMaster.kill();
		long startedAt = System.nanoTime();
		assertThatExceptionOfType(LockUnavailableException.class).isThrownBy(() -> other.tryAcquire("in-the-switch"));
		assertThat(System.nanoTime() - startedAt).as("a call during the switch fails within the command timeout")
			.isLessThan(COMMAND_TIMEOUT.toNanos() + TimeUnit.SECONDS.toNanos(1));

		RedisServer newMaster = rig.awaitFailover(oldMaster, Duration.ofSeconds(30));
		assertThat(newMaster).isNotSameAs(oldMaster);
		// the same registries work again, no restart (Lettuce finds the new master
		// through the sentinels when it reconnects)
		await("acquire on the new master").atMost(Duration.ofSeconds(40))
			.pollInterval(Duration.ofMillis(200))
			.ignoreExceptionsInstanceOf(LockUnavailableException.class)
			.until(() -> other.tryAcquire("after-the-switch").map((handle) -> {
				handle.release();
				return true;
			}).orElse(false));
		// both registries re-subscribed on the new master
		await("re-subscribed on the new master").atMost(Duration.ofSeconds(20))
			.until(() -> newMaster.admin((c) -> c.pubsubNumsub(holder.getChannel()))
				.equals(Map.of(holder.getChannel(), 2L)));

		// the lock the new master never saw is reported lost at its next renewal
		assertThat(unreplicatedLost.await(20, TimeUnit.SECONDS)).isTrue();
		assertThat(unreplicated.isHeld()).isFalse();
		// the replicated one is kept, and still excludes
		assertThat(survivor.isHeld()).isTrue();
		assertThat(survivorLost.getCount()).isEqualTo(1);
		assertThat(waiter).isNotDone();
		assertThat(newMaster.<Long>admin((c) -> c.exists(survivorKey))).isEqualTo(1L);

		// the waiter is woken by the release on the new master (not by its lease or
		// recheck, both 20 s or more away)
		long releasedAt = System.nanoTime();
		survivor.release();
		assertThat(waiter).succeedsWithin(Duration.ofSeconds(10))
			.satisfies((token) -> assertThat(token).isGreaterThan(survivor.fencingToken()));
		assertThat(System.nanoTime() - releasedAt).isLessThan(TimeUnit.SECONDS.toNanos(8));
		assertThat(survivorLost.getCount()).isEqualTo(1);
		unreplicated.release();
	}

}
