package io.github.userlock.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.github.userlock.LockHandle;
import io.github.userlock.test.BootRedis;
import io.github.userlock.LockRegistry;
import io.github.userlock.autoconfigure.LockAutoConfiguration;
import io.github.userlock.test.RedisClusterRig;
import io.github.userlock.test.RedisServer;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A held and waited-for key's hash slot is migrated to another master of a real
 * three-master cluster ({@code SETSLOT IMPORTING/MIGRATING}, {@code MIGRATE} of the lock
 * key with its fencing counter, {@code SETSLOT NODE}): the driver follows {@code ASK} and
 * {@code MOVED}, so renewals, exclusion, the release and the wake-up keep working.
 */
@Timeout(90)
class RedisLockRegistrySlotMigrationTests {

	private static RedisClusterRig rig;

	private static final List<RedisClusterClient> clients = new ArrayList<>();

	private final List<RedisLockRegistry> registries = new ArrayList<>();

	private final ExecutorService executor = Executors.newCachedThreadPool();

	@BeforeAll
	static void startCluster() {
		rig = RedisClusterRig.start();
	}

	@AfterAll
	static void stopCluster() {
		clients.forEach(RedisClusterClient::shutdown);
		if (rig != null) {
			rig.close();
		}
	}

	@AfterEach
	void closeRegistries() {
		this.executor.shutdownNow();
		this.registries.forEach(RedisLockRegistry::close);
	}

	private RedisLockRegistry instance() {
		RedisClusterClient client = RedisClusterClient.create(rig.seedUri());
		clients.add(client);
		// 900 ms leases: renewed every 300 ms, so a migration that broke renewals loses
		// the lock within a second
		RedisLockRegistry registry = RedisLockRegistry.builder(client).defaultLeaseTime(Duration.ofMillis(900)).build();
		this.registries.add(registry);
		return registry;
	}

	@Test
	void aHeldAndWaitedForKeyMovesToAnotherMasterAndKeepsWorking() throws Exception {
		RedisLockRegistry holder = instance();
		RedisLockRegistry waiting = instance();
		RedisLockRegistry prober = instance();
		String storeKey = holder.storeKey("", "moving");
		String fenceKey = storeKey.substring(0, storeKey.indexOf('}') + 1);
		int slot = SlotHash.getSlot(storeKey);
		assertThat(SlotHash.getSlot(fenceKey)).isEqualTo(slot);
		RedisServer source = rig.owner(slot);
		RedisServer target = rig.nodes().get((rig.nodes().indexOf(source) + 1) % 3);

		LockHandle held = holder.acquire("moving", Duration.ofSeconds(5));
		CompletableFuture<Long> waiter = CompletableFuture.supplyAsync(() -> {
			try (LockHandle next = waiting.acquire("moving", Duration.ofSeconds(60))) {
				return next.fencingToken();
			}
		}, this.executor);
		await().atMost(Duration.ofSeconds(10)).until(() -> source.admin((c) -> c.strlen(storeKey)) == 33);

		rig.beginMigration(slot, target);
		assertThat(rig.migrateKeys(slot, target)).containsExactlyInAnyOrder(storeKey, fenceKey);
		assertThat(keysInSlot(source, slot)).isZero();
		assertThat(keysInSlot(target, slot)).isEqualTo(2);
		// slot half-migrated: every call on the key is redirected with ASK
		assertKeptAndExcluded(holder, prober, held);

		rig.endMigration(slot, target);
		// migrated: redirected with MOVED
		assertKeptAndExcluded(holder, prober, held);
		assertThat(keysInSlot(target, slot)).isEqualTo(2);
		assertThat(waiter).isNotDone();

		long releasedAt = System.nanoTime();
		held.release();
		assertThat(waiter).succeedsWithin(Duration.ofSeconds(10))
			.satisfies((token) -> assertThat(token).isGreaterThan(held.fencingToken()));
		// woken by the release published on the new owner, not by a recheck (1 s) or
		// the lease
		assertThat(System.nanoTime() - releasedAt).isLessThan(TimeUnit.SECONDS.toNanos(5));
		await().atMost(Duration.ofSeconds(5)).until(() -> keysInSlot(target, slot) == 1);
		assertThat(keysInSlot(source, slot)).isZero();
	}

	@Test
	void exclusionHoldsWhileTheSlotOfBusyKeysMovesBackAndForth() throws Exception {
		RedisLockRegistry first = instance();
		RedisLockRegistry second = instance();
		List<String> keys = keysInOneSlot(first, 4);
		int slot = SlotHash.getSlot(first.storeKey("", keys.get(0)));
		RedisServer home = rig.owner(slot);
		RedisServer away = rig.nodes().get((rig.nodes().indexOf(home) + 1) % 3);
		AtomicBoolean stop = new AtomicBoolean();
		AtomicInteger overlaps = new AtomicInteger();
		AtomicLong done = new AtomicLong();
		Map<String, AtomicInteger> inside = new ConcurrentHashMap<>();
		List<Throwable> failures = new CopyOnWriteArrayList<>();
		List<Future<?>> workers = new ArrayList<>();
		for (int t = 0; t < 6; t++) {
			RedisLockRegistry registry = (t % 2 == 0) ? first : second;
			int seed = t;
			workers.add(this.executor.submit(() -> {
				for (int i = 0; !stop.get(); i++) {
					String key = keys.get((seed + i) % keys.size());
					try (LockHandle handle = registry.acquire(key, Duration.ofSeconds(20))) {
						AtomicInteger count = inside.computeIfAbsent(key, (k) -> new AtomicInteger());
						if (count.incrementAndGet() != 1) {
							overlaps.incrementAndGet();
						}
						Thread.onSpinWait();
						count.decrementAndGet();
						done.incrementAndGet();
					}
					catch (RuntimeException ex) {
						failures.add(ex);
					}
				}
			}));
		}
		for (RedisServer to : List.of(away, home, away)) {
			awaitProgress(done, 50);
			RedisServer from = rig.owner(slot);
			long refusedBefore = tryAgainCount(from);
			rig.beginMigration(slot, to);
			// acquires of a free key (its fencing counter exists, the lock key does not)
			// are refused with TRYAGAIN until the keys moved: they are sent again
			await().atMost(Duration.ofSeconds(20)).until(() -> tryAgainCount(from) > refusedBefore);
			// then as redis-cli --cluster reshard does: the keys, then the owner. In
			// between
			// a multi-key script (an acquire of a free key) gets TRYAGAIN on both nodes
			rig.migrateKeys(slot, to);
			rig.endMigration(slot, to);
		}
		awaitProgress(done, 50);
		stop.set(true);
		for (Future<?> worker : workers) {
			worker.get(30, TimeUnit.SECONDS);
		}
		assertThat(overlaps).hasValue(0);
		assertThat(failures).isEmpty();
		assertThat(keysInSlot(home, slot)).isZero();
		assertThat(keysInSlot(away, slot)).isEqualTo(1);
	}

	private static void awaitProgress(AtomicLong done, long operations) {
		long from = done.get();
		await().atMost(Duration.ofSeconds(20)).until(() -> done.get() - from >= operations);
	}

	/** {@code count} keys whose locks share one hash slot (one bucket). */
	private static List<String> keysInOneSlot(RedisLockRegistry registry, int count) {
		int slot = SlotHash.getSlot(registry.storeKey("", "busy-0"));
		List<String> keys = new ArrayList<>();
		for (int i = 0; keys.size() < count; i++) {
			if (SlotHash.getSlot(registry.storeKey("", "busy-" + i)) == slot) {
				keys.add("busy-" + i);
			}
		}
		return keys;
	}

	@Test
	void bootsClusterConfigurationGivesAClusterRegistry() {
		String nodes = rig.nodes()
			.stream()
			.map((node) -> node.host() + ":" + node.port())
			.collect(java.util.stream.Collectors.joining(","));
		ApplicationContextRunner runner = new ApplicationContextRunner()
			.withConfiguration(BootRedis.with(LockAutoConfiguration.class))
			.withPropertyValues("spring.data.redis.cluster.nodes=" + nodes);
		RedisLockRegistry other = instance();
		runner.run((context) -> {
			assertThat(context).hasNotFailed();
			LockRegistry registry = context.getBean(LockRegistry.class);
			try (LockHandle held = registry.acquire("boot-user", Duration.ofSeconds(5))) {
				String storeKey = other.storeKey("", "boot-user");
				assertThat(rig.owner(SlotHash.getSlot(storeKey)).<Long>admin((c) -> c.exists(storeKey))).isEqualTo(1L);
				assertThat(other.tryAcquire("boot-user")).isEmpty();
			}
			assertThat(other.tryAcquire("boot-user")).hasValueSatisfying(LockHandle::release);
		});
		runner.withPropertyValues("lock.redis.min-replicas=1")
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("lock.redis.min-replicas=1 is not supported on Redis Cluster"));
	}

	/**
	 * For three lease times: the holder's watchdog keeps renewing the lock, and another
	 * instance cannot take it.
	 */
	private static void assertKeptAndExcluded(RedisLockRegistry holder, RedisLockRegistry prober, LockHandle held) {
		long renewalsBefore = holder.renewalCalls();
		await().during(Duration.ofMillis(2700))
			.atMost(Duration.ofSeconds(8))
			.pollInterval(Duration.ofMillis(100))
			.until(() -> held.isHeld() && isExcluded(prober, "moving"));
		assertThat(holder.renewalCalls() - renewalsBefore).isGreaterThanOrEqualTo(3);
	}

	private static boolean isExcluded(RedisLockRegistry registry, String key) {
		Optional<LockHandle> taken = registry.tryAcquire(key);
		taken.ifPresent(LockHandle::release);
		return taken.isEmpty();
	}

	/** How many commands {@code node} refused with TRYAGAIN (INFO errorstats). */
	private static long tryAgainCount(RedisServer node) {
		String stat = node.infoMap("errorstats").get("errorstat_TRYAGAIN");
		return (stat != null) ? Long.parseLong(stat.substring("count=".length())) : 0;
	}

	private static long keysInSlot(RedisServer node, int slot) {
		return node.admin((c) -> c.clusterCountKeysInSlot(slot));
	}

}
