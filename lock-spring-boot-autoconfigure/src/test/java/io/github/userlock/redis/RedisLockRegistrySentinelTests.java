package io.github.userlock.redis;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import io.github.userlock.LockHandle;
import io.github.userlock.test.BootRedis;
import io.github.userlock.LockRegistry;
import io.github.userlock.LockUnavailableException;
import io.github.userlock.autoconfigure.LockAutoConfiguration;
import io.github.userlock.test.RedisServer;
import io.github.userlock.test.SentinelRig;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

/**
 * The lock through a Sentinel-configured connection factory
 * ({@code spring.data.redis.sentinel.*}, Spring Boot's Redis auto-configuration) on a
 * real Sentinel rig (one master, one replica, three sentinels): acquire, release,
 * waiting, renewal, and the opt-in replica acknowledgement
 * ({@code lock.redis.min-replicas}).
 */
@Timeout(60)
class RedisLockRegistrySentinelTests {

	private static SentinelRig rig;

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

	@BeforeEach
	void clean() {
		RedisServer master = rig.master();
		if (rig.replica().isPaused()) {
			rig.replica().resume();
		}
		master.flushAll();
		SentinelRig.awaitReplicaOnline(master);
	}

	private static long exists(RedisServer server, String key) {
		return server.admin((c) -> c.exists(key));
	}

	private ApplicationContextRunner instance(String... properties) {
		return new ApplicationContextRunner().withConfiguration(BootRedis.with(LockAutoConfiguration.class))
			.withPropertyValues("spring.data.redis.sentinel.master=" + SentinelRig.MASTER_NAME,
					"spring.data.redis.sentinel.nodes=" + rig.sentinelNodes())
			.withPropertyValues(properties);
	}

	/** Two started application instances on the rig, with the same properties. */
	private void twoInstances(BiConsumer<LockRegistry, LockRegistry> test, String... properties) {
		ApplicationContextRunner runner = instance(properties);
		runner.run((a) -> runner.run((b) -> {
			assertThat(a).hasNotFailed();
			assertThat(b).hasNotFailed();
			assertThat(a.getBean(RedisConnectionFactory.class)).isInstanceOfSatisfying(LettuceConnectionFactory.class,
					(factory) -> assertThat(factory.getSentinelConfiguration()).isNotNull());
			test.accept(a.getBean(LockRegistry.class), b.getBean(LockRegistry.class));
		}));
	}

	@Test
	void acquireExcludeWaitAndReleaseThroughTheSentinels() {
		twoInstances((a, b) -> {
			LockHandle held = a.acquire("alice", Duration.ofSeconds(5));
			String storeKey = ((RedisLockRegistry) a).storeKey("", "alice");
			// the lock is on the master the sentinels name, and replicated
			assertThat(exists(rig.master(), storeKey)).isEqualTo(1L);
			SentinelRig.awaitReplicated(rig.master());
			assertThat(exists(rig.replica(), storeKey)).isEqualTo(1L);
			assertThat(b.tryAcquire("alice")).isEmpty();
			CompletableFuture<Long> waiter = CompletableFuture.supplyAsync(() -> {
				try (LockHandle next = b.acquire("alice", Duration.ofSeconds(20))) {
					return next.fencingToken();
				}
			});
			// the waiter marked the key (a release then publishes a wake-up)
			await().atMost(Duration.ofSeconds(10)).until(() -> rig.master().admin((c) -> c.strlen(storeKey)) == 33);
			long releasedAt = System.nanoTime();
			held.release();
			assertThat(waiter).succeedsWithin(Duration.ofSeconds(10))
				.satisfies((token) -> assertThat(token).isGreaterThan(held.fencingToken()));
			// woken by the release, not by the recheck interval (10 s here)
			assertThat(System.nanoTime() - releasedAt).isLessThan(TimeUnit.SECONDS.toNanos(5));
			await().atMost(Duration.ofSeconds(5)).until(() -> exists(rig.master(), storeKey) == 0);
		}, "lock.recheck-interval=10s");
	}

	@Test
	void theWatchdogRenewsThroughTheSentinels() {
		twoInstances((a, b) -> {
			LockHandle held = a.acquire("bob", Duration.ofSeconds(5));
			String storeKey = ((RedisLockRegistry) a).storeKey("", "bob");
			// three leases of 600 ms: only renewals keep it
			await().during(Duration.ofMillis(1800))
				.atMost(Duration.ofSeconds(5))
				.until(() -> held.isHeld() && exists(rig.master(), storeKey) == 1);
			assertThat(b.tryAcquire("bob")).isEmpty();
			held.release();
			assertThat(b.tryAcquire("bob")).hasValueSatisfying(LockHandle::release);
		}, "lock.lease-time=600ms");
	}

	@Test
	void withMinReplicasAnAcquireTheReplicaAcknowledgedSucceeds() {
		twoInstances((a, b) -> {
			rig.master().resetStats();
			LockHandle held = a.acquire("carol", Duration.ofSeconds(2));
			String storeKey = ((RedisLockRegistry) a).storeKey("", "carol");
			// WAIT returned only once the replica had it
			assertThat(exists(rig.replica(), storeKey)).isEqualTo(1L);
			assertThat(rig.master().commandCalls("wait")).isEqualTo(1);
			assertThat(b.tryAcquire("carol")).isEmpty();
			held.release();
			assertThat(b.tryAcquire("carol")).hasValueSatisfying(LockHandle::release);
			// after SCRIPT FLUSH the acquire goes again as EVAL, and so does its WAIT
			rig.master().admin((c) -> c.scriptFlush());
			rig.master().resetStats();
			LockHandle again = a.acquire("carol", Duration.ofSeconds(2));
			assertThat(rig.master().commandCalls("eval")).isEqualTo(1);
			assertThat(rig.master().commandCalls("wait")).isEqualTo(2);
			assertThat(exists(rig.replica(), storeKey)).isEqualTo(1L);
			again.release();
		}, "lock.redis.min-replicas=1", "lock.redis.replica-timeout=1s", "lock.command-timeout=3s");
	}

	@Test
	void withMinReplicasAndTheReplicaStoppedAnAcquireFailsClearlyAndLeavesNothingLocked() {
		twoInstances((a, b) -> {
			String storeKey = ((RedisLockRegistry) a).storeKey("", "dave");
			rig.replica().pause();
			try {
				long startedAt = System.nanoTime();
				assertThatExceptionOfType(LockUnavailableException.class)
					.isThrownBy(() -> a.acquire("dave", Duration.ofSeconds(2)))
					.withMessageContaining("only 0 of 1 replicas acknowledged")
					.withMessageContaining("lock.redis.min-replicas");
				// the WAIT waited its 300 ms, not the command timeout
				assertThat(System.nanoTime() - startedAt).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(300))
					.isLessThan(TimeUnit.SECONDS.toNanos(3));
				// nothing locked: the key is gone when the exception is thrown
				assertThat(exists(rig.master(), storeKey)).isZero();
			}
			finally {
				rig.replica().resume();
			}
			SentinelRig.awaitReplicaOnline(rig.master());
			// the replica is back: it works again
			assertThat(b.tryAcquire("dave")).hasValueSatisfying(LockHandle::release);
		}, "lock.redis.min-replicas=1", "lock.redis.replica-timeout=300ms", "lock.command-timeout=3s");
	}

	@Test
	void replicaAcknowledgementSettingsAreChecked() {
		RedisClient client = RedisClient.create();
		RedisClusterClient clusterClient = RedisClusterClient.create(RedisURI.create("127.0.0.1", 1));
		try {
			RedisLockRegistry.Builder builder = RedisLockRegistry.builder(client);
			assertThatIllegalArgumentException().isThrownBy(() -> builder.minReplicas(-1))
				.withMessage("lock.redis.min-replicas must be 0 or more, was -1");
			assertThatIllegalArgumentException().isThrownBy(() -> builder.replicaTimeout(Duration.ZERO))
				.withMessageContaining("lock.redis.replica-timeout must be at least 1 ms");
			assertThatIllegalArgumentException()
				.isThrownBy(() -> builder.minReplicas(1)
					.replicaTimeout(Duration.ofSeconds(2))
					.commandTimeout(Duration.ofSeconds(2))
					.build())
				.withMessageContaining(
						"lock.redis.replica-timeout (PT2S) must be shorter than lock.command-timeout (PT2S)");
			assertThatIllegalArgumentException()
				.isThrownBy(() -> RedisLockRegistry.builder(clusterClient).minReplicas(1).build())
				.withMessageContaining("not supported on Redis Cluster");
		}
		finally {
			client.shutdown();
			clusterClient.shutdown();
		}
		instance("lock.redis.min-replicas=1", "lock.redis.replica-timeout=5s")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("lock.redis.replica-timeout (PT5S) must be shorter than lock.command-timeout"));
	}

}
