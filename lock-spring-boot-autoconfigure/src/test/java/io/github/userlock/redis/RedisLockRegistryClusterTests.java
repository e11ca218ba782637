package io.github.userlock.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import io.github.userlock.LockHandle;
import io.github.userlock.test.RedisServer;
import io.lettuce.core.Range;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The engine on a real three-master Redis Cluster (the same redis-server binary, cluster mode): every key a
 * script touches shares the lock key's slot, so acquire, release, renew and wake-ups work unchanged.
 */
@Timeout(120)
class RedisLockRegistryClusterTests {

	private static final List<RedisServer> nodes = new ArrayList<>();

	private static final List<RedisClusterClient> clients = new ArrayList<>();

	private final List<RedisLockRegistry> registries = new ArrayList<>();

	@BeforeAll
	static void startCluster() {
		for (int i = 0; i < 3; i++) {
			nodes.add(RedisServer.create("--cluster-enabled", "yes", "--cluster-node-timeout", "5000").start());
		}
		int[][] ranges = { { 0, 5460 }, { 5461, 10922 }, { 10923, 16383 } };
		for (int i = 0; i < 3; i++) {
			int[] range = ranges[i];
			nodes.get(i).admin((c) -> c.clusterAddSlotsRange(Range.create(range[0], range[1])));
		}
		for (int i = 1; i < 3; i++) {
			int port = nodes.get(i).port();
			nodes.get(0).admin((c) -> c.clusterMeet("127.0.0.1", port));
		}
		await().atMost(Duration.ofSeconds(30))
			.until(() -> nodes.stream()
				.allMatch((node) -> node.admin((c) -> c.clusterInfo()).contains("cluster_state:ok")
						&& node.admin((c) -> c.clusterInfo()).contains("cluster_known_nodes:3")));
	}

	@AfterAll
	static void stopCluster() {
		clients.forEach(RedisClusterClient::shutdown);
		nodes.forEach(RedisServer::close);
	}

	private RedisLockRegistry instance() {
		RedisClusterClient client = RedisClusterClient.create(RedisURI.create("127.0.0.1", nodes.get(0).port()));
		clients.add(client);
		RedisLockRegistry registry = RedisLockRegistry.builder(client)
			.defaultLeaseTime(Duration.ofMillis(900))
			.build();
		this.registries.add(registry);
		return registry;
	}

	@org.junit.jupiter.api.AfterEach
	void closeRegistries() {
		this.registries.forEach(RedisLockRegistry::close);
	}

	@Test
	void locksSpreadOverEveryMasterAndExcludeAcrossInstances() throws Exception {
		RedisLockRegistry first = instance();
		RedisLockRegistry second = instance();
		Set<Integer> slots = new HashSet<>();
		Set<Integer> masters = new HashSet<>();
		for (int i = 0; i < 60; i++) {
			int slot = SlotHash.getSlot(first.storeKey("", "user-" + i));
			slots.add(slot);
			masters.add((slot <= 5460) ? 0 : (slot <= 10922) ? 1 : 2);
		}
		assertThat(masters).hasSize(3);
		ExecutorService executor = Executors.newFixedThreadPool(8);
		try {
			AtomicInteger overlaps = new AtomicInteger();
			AtomicInteger[] holders = IntStream.range(0, 60).mapToObj((i) -> new AtomicInteger())
				.toArray(AtomicInteger[]::new);
			List<Future<?>> futures = new ArrayList<>();
			for (int t = 0; t < 8; t++) {
				RedisLockRegistry registry = (t % 2 == 0) ? first : second;
				int seed = t;
				futures.add(executor.submit(() -> {
					for (int i = 0; i < 300; i++) {
						int k = (seed * 31 + i) % 60;
						try (LockHandle handle = registry.acquire("user-" + k, Duration.ofSeconds(20))) {
							if (holders[k].incrementAndGet() != 1) {
								overlaps.incrementAndGet();
							}
							holders[k].decrementAndGet();
						}
					}
					return null;
				}));
			}
			for (Future<?> future : futures) {
				future.get(60, TimeUnit.SECONDS);
			}
			assertThat(overlaps).hasValue(0);
		}
		finally {
			executor.shutdownNow();
		}
	}

	@Test
	void watchdogRenewsLocksOnEveryMasterAndWaitersAreWoken() throws Exception {
		RedisLockRegistry holder = instance();
		RedisLockRegistry other = instance();
		List<LockHandle> handles = new ArrayList<>();
		for (int i = 0; i < 30; i++) {
			handles.add(holder.acquire("held-" + i, Duration.ofSeconds(1)));
		}
		long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2000);
		while (System.nanoTime() - until < 0) {
			assertThat(other.tryAcquire("held-" + (int) (Math.random() * 30))).isEmpty();
		}
		assertThat(handles).allMatch(LockHandle::isHeld);
		ExecutorService executor = Executors.newSingleThreadExecutor();
		try {
			Future<Long> waiter = executor.submit(() -> {
				try (LockHandle handle = other.acquire("held-7", Duration.ofSeconds(10))) {
					return handle.fencingToken();
				}
			});
			await().atMost(Duration.ofSeconds(5)).until(() -> holder.storeKey("", "held-7") != null
					&& clusterStrlen(holder.storeKey("", "held-7")) == 33);
			handles.forEach(LockHandle::release);
			assertThat(waiter.get(5, TimeUnit.SECONDS)).isGreaterThan(handles.get(7).fencingToken());
		}
		finally {
			executor.shutdownNow();
		}
	}

	private static long clusterStrlen(String key) {
		int slot = SlotHash.getSlot(key);
		RedisServer node = nodes.get((slot <= 5460) ? 0 : (slot <= 10922) ? 1 : 2);
		return node.admin((c) -> c.strlen(key));
	}

}
