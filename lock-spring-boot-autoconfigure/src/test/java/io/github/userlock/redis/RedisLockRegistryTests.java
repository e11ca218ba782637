package io.github.userlock.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.github.userlock.LockHandle;
import io.github.userlock.LockListener;
import io.github.userlock.LockRequest;
import io.github.userlock.LockUnavailableException;
import io.github.userlock.test.RedisServerExtension;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * What only the Redis engine does: leases, the watchdog, wake-ups, fencing across
 * instances, faults.
 */
@Timeout(120)
class RedisLockRegistryTests {

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension();

	private final List<RedisLockRegistry> registries = new ArrayList<>();

	private final ExecutorService executor = Executors.newCachedThreadPool();

	@AfterEach
	void close() throws InterruptedException {
		this.registries.forEach(RedisLockRegistry::close);
		this.executor.shutdownNow();
		assertThat(this.executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
	}

	/** A registry with its own Redis connections: one application instance. */
	private RedisLockRegistry instance(java.util.function.UnaryOperator<RedisLockRegistry.Builder> settings) {
		return instance(redis.newClient(), settings);
	}

	/** One application instance on {@code client} (e.g. through a fault proxy). */
	private RedisLockRegistry instance(RedisClient client,
			java.util.function.UnaryOperator<RedisLockRegistry.Builder> settings) {
		RedisLockRegistry registry = settings.apply(RedisLockRegistry.builder(client)).build();
		this.registries.add(registry);
		return registry;
	}

	private RedisLockRegistry instance() {
		return instance((b) -> b);
	}

	private RedisCommands<String, String> admin() {
		StatefulRedisConnection<String, String> connection = redis.client().connect();
		return connection.sync();
	}

	@Test
	void excludesAcrossFourInstancesWithoutLostUpdates() throws Exception {
		int instances = 4;
		int threads = 16;
		int keys = 20;
		int perThread = 1250; // 20,000 acquisitions in all
		List<RedisLockRegistry> registries = new ArrayList<>();
		List<RedisCommands<String, String>> stores = new ArrayList<>();
		for (int i = 0; i < instances; i++) {
			registries.add(instance());
			RedisClient client = redis.newClient();
			stores.add(client.connect().sync());
		}
		ConcurrentHashMap<Integer, AtomicInteger> holders = new ConcurrentHashMap<>();
		AtomicInteger overlaps = new AtomicInteger();
		AtomicLong acquisitions = new AtomicLong();
		List<Future<?>> futures = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			int instance = t % instances;
			int seed = t * 7;
			futures.add(this.executor.submit(() -> {
				RedisLockRegistry registry = registries.get(instance);
				RedisCommands<String, String> store = stores.get(instance);
				java.util.Random random = new java.util.Random(seed);
				for (int i = 0; i < perThread; i++) {
					int k = random.nextInt(keys);
					try (LockHandle handle = registry.acquire("user-" + k, Duration.ofSeconds(30))) {
						AtomicInteger holding = holders.computeIfAbsent(k, (x) -> new AtomicInteger());
						if (holding.incrementAndGet() != 1) {
							overlaps.incrementAndGet();
						}
						// the non-atomic read-modify-write that only the lock protects
						String value = store.get("counter:" + k);
						store.set("counter:" + k, Long.toString((value != null ? Long.parseLong(value) : 0) + 1));
						holding.decrementAndGet();
						acquisitions.incrementAndGet();
					}
				}
				return null;
			}));
		}
		for (Future<?> future : futures) {
			future.get(100, TimeUnit.SECONDS);
		}
		long total = 0;
		RedisCommands<String, String> admin = admin();
		for (int k = 0; k < keys; k++) {
			String value = admin.get("counter:" + k);
			total += (value != null) ? Long.parseLong(value) : 0;
		}
		assertThat(acquisitions.get()).isEqualTo((long) threads * perThread).isGreaterThanOrEqualTo(20_000);
		assertThat(overlaps).hasValue(0);
		assertThat(total).as("lost updates").isEqualTo(acquisitions.get());
		registries.forEach((registry) -> assertThat(registry.localKeyCount()).isZero());
	}

	@Test
	void crashedHolderIsTakenOverAfterItsLease() throws Exception {
		RedisLockRegistry crashing = instance((b) -> b.defaultLeaseTime(Duration.ofMillis(800)));
		RedisLockRegistry survivor = instance();
		LockHandle held = crashing.acquire("grace", Duration.ofSeconds(1));
		crashing.close(); // no release, no more renewals: the process is gone
		long start = System.nanoTime();
		try (LockHandle taken = survivor.acquire("grace", Duration.ofSeconds(10))) {
			Duration takeover = Duration.ofNanos(System.nanoTime() - start);
			assertThat(taken.fencingToken()).isGreaterThan(held.fencingToken());
			assertThat(takeover).isLessThan(Duration.ofSeconds(3));
		}
	}

	@Test
	void watchdogKeepsALockHeldPastThreeLeases() throws Exception {
		RedisLockRegistry holder = instance((b) -> b.defaultLeaseTime(Duration.ofMillis(1000)));
		RedisLockRegistry other = instance();
		try (LockHandle handle = holder.acquire("heidi", Duration.ofSeconds(1))) {
			long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3300);
			int checks = 0;
			while (System.nanoTime() - until < 0) {
				assertThat(other.tryAcquire("heidi")).isEmpty();
				assertThat(handle.isHeld()).isTrue();
				checks++;
			}
			assertThat(checks).isPositive();
			assertThat(holder.heldLockCount()).isEqualTo(1);
		}
		assertThat(holder.heldLockCount()).isZero();
		other.acquire("heidi", Duration.ofSeconds(5)).release();
	}

	@Test
	void waiterIsWokenByPubSubNotByRecheck() throws Exception {
		RedisLockRegistry holder = instance();
		RedisLockRegistry waiter = instance((b) -> b.recheckInterval(Duration.ofSeconds(10)));
		LockHandle handle = holder.acquire("ivan", Duration.ofSeconds(1));
		Future<Long> acquiredAt = this.executor.submit(() -> {
			try (LockHandle second = waiter.acquire("ivan", Duration.ofSeconds(20))) {
				return System.nanoTime();
			}
		});
		String storeKey = holder.storeKey("", "ivan");
		RedisCommands<String, String> admin = admin();
		// the waiter has tried once and marked the key as waited for
		await().atMost(Duration.ofSeconds(5)).until(() -> admin.strlen(storeKey) == 33);
		long releasedAt = System.nanoTime();
		handle.release();
		long wokeAfter = acquiredAt.get(15, TimeUnit.SECONDS) - releasedAt;
		assertThat(Duration.ofNanos(wokeAfter)).isLessThan(Duration.ofSeconds(1));
	}

	@Test
	void fencingTokensStrictlyIncreaseAcrossInstances() throws Exception {
		List<RedisLockRegistry> instances = List.of(instance(), instance(), instance(), instance());
		long previous = 0;
		for (int i = 0; i < 200; i++) {
			RedisLockRegistry registry = instances.get(i % instances.size());
			long token = this.executor.submit(() -> {
				try (LockHandle handle = registry.acquire("judy", Duration.ofSeconds(1))) {
					return handle.fencingToken();
				}
			}).get(5, TimeUnit.SECONDS);
			assertThat(token).isGreaterThan(previous);
			previous = token;
		}
	}

	@Test
	void fencingTokensKeepIncreasingAfterRedisLostItsData() throws Exception {
		RedisLockRegistry registry = instance();
		long before;
		try (LockHandle handle = registry.acquire("ken", Duration.ofSeconds(1))) {
			before = handle.fencingToken();
		}
		redis.server().flushAll();
		try (LockHandle handle = registry.acquire("ken", Duration.ofSeconds(1))) {
			assertThat(handle.fencingToken()).isGreaterThan(before);
		}
	}

	@Test
	void distinctKeysLeaveNothingBehindLocallyOrInRedis() throws Exception {
		RedisLockRegistry registry = instance();
		int threads = 8;
		int perThread = 12_500; // 100,000 distinct keys
		List<Future<?>> futures = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			int offset = t * perThread;
			futures.add(this.executor.submit(() -> {
				for (int i = 0; i < perThread; i++) {
					registry.acquire("user-" + (offset + i), Duration.ofSeconds(5)).release();
				}
				return null;
			}));
		}
		for (Future<?> future : futures) {
			future.get(100, TimeUnit.SECONDS);
		}
		assertThat(registry.localKeyCount()).isZero();
		assertThat(registry.heldLockCount()).isZero();
		// only the fencing counters remain: at most one per bucket, whatever the number
		// of users
		// (the last releases may still be on their way)
		await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
			assertThat(redis.server().keyCount()).isLessThanOrEqualTo(RedisKeys.BUCKETS);
			assertThat(admin().keys("user-lock:*}:*")).isEmpty();
		});
	}

	@Test
	void redisDownFailsWithinCommandTimeoutAndRecoversAfterRestart() throws Exception {
		RedisLockRegistry registry = instance((b) -> b.commandTimeout(Duration.ofMillis(500)));
		registry.acquire("leo", Duration.ofSeconds(1)).release();
		redis.server().stop();
		try {
			long start = System.nanoTime();
			assertThatThrownBy(() -> registry.acquire("leo", Duration.ofSeconds(5)))
				.isInstanceOf(LockUnavailableException.class)
				.hasMessageContaining("'leo'");
			assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1500));
		}
		finally {
			redis.server().start();
		}
		await().atMost(Duration.ofSeconds(15)).ignoreException(LockUnavailableException.class).untilAsserted(() -> {
			try (LockHandle handle = registry.acquire("leo", Duration.ofSeconds(1))) {
				assertThat(handle.isHeld()).isTrue();
			}
		});
	}

	@Test
	void hungRedisFailsWithinCommandTimeout() throws Exception {
		RedisLockRegistry registry = instance((b) -> b.commandTimeout(Duration.ofMillis(300)));
		registry.acquire("mia", Duration.ofSeconds(1)).release();
		redis.server().pause();
		try {
			long start = System.nanoTime();
			assertThatThrownBy(() -> registry.acquire("mia", Duration.ofSeconds(5)))
				.isInstanceOf(LockUnavailableException.class)
				.hasMessageContaining("did not answer within 300 ms");
			assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
		}
		finally {
			redis.server().resume();
		}
		// the acquire that timed out ran when Redis woke up; it was undone by owner, so
		// nothing is left held
		await().atMost(Duration.ofSeconds(5)).until(() -> registry.tryAcquire("mia").map((handle) -> {
			handle.release();
			return true;
		}).orElse(false));
	}

	@Test
	void lockTakenOverInRedisIsReportedLost() throws Exception {
		RedisLockRegistry registry = instance((b) -> b.defaultLeaseTime(Duration.ofMillis(600)));
		AtomicReference<String> lostKey = new AtomicReference<>();
		registry.addListener(new LockListener() {
			@Override
			public void lockLost(String key, long fencingToken) {
				lostKey.set(key);
			}
		});
		LockHandle handle = registry.acquire("nina", Duration.ofSeconds(1));
		CountDownLatch lost = new CountDownLatch(1);
		handle.onLost((h) -> lost.countDown());
		String storeKey = registry.storeKey("", "nina");
		RedisCommands<String, String> admin = admin();
		admin.set(storeKey, "someone-else-0000000000000000000", io.lettuce.core.SetArgs.Builder.px(60_000));
		assertThat(lost.await(5, TimeUnit.SECONDS)).isTrue();
		assertThat(handle.isHeld()).isFalse();
		assertThat(lostKey.get()).isEqualTo("nina");
		assertThat(registry.lostWhileHeldCount()).isEqualTo(1);
		handle.release();
		await().atMost(Duration.ofSeconds(5)).until(() -> registry.lostBeforeReleaseCount() == 1);
		assertThat(admin.get(storeKey)).isEqualTo("someone-else-0000000000000000000");
	}

	@Test
	void releaseAfterLeaseExpiryDeletesNothingOfTheNextOwner() throws Exception {
		var proxy = redis.newProxy();
		RedisLockRegistry paused = instance(redis.newClient(proxy),
				(b) -> b.defaultLeaseTime(Duration.ofMillis(300)).commandTimeout(Duration.ofMillis(200)));
		RedisLockRegistry next = instance();
		LockHandle stale = paused.acquire("omar", Duration.ofSeconds(1));
		// a stall the watchdog cannot bridge: its renewals stop reaching Redis
		proxy.blackhole();
		LockHandle successor = next.acquire("omar", Duration.ofSeconds(5));
		assertThat(successor.fencingToken()).isGreaterThan(stale.fencingToken());
		proxy.cutAll();
		proxy.pass();
		// the paused instance reconnects
		await().atMost(Duration.ofSeconds(10))
			.ignoreException(LockUnavailableException.class)
			.until(() -> paused.tryAcquire("probe").map((probe) -> {
				probe.release();
				return true;
			}).orElse(false));
		stale.release();
		await().atMost(Duration.ofSeconds(5)).until(() -> paused.lostBeforeReleaseCount() == 1);
		assertThat(successor.isHeld()).isTrue();
		assertThat(this.executor.submit(() -> instance().tryAcquire("omar")).get(5, TimeUnit.SECONDS)).isEmpty();
		successor.release();
	}

	@Test
	void leaseRunningOutWhileRedisUnreachableIsReportedLost() throws Exception {
		var proxy = redis.newProxy();
		RedisLockRegistry registry = instance(redis.newClient(proxy),
				(b) -> b.defaultLeaseTime(Duration.ofMillis(900)).commandTimeout(Duration.ofMillis(200)));
		LockHandle handle = registry.acquire("pia", Duration.ofSeconds(1));
		CountDownLatch lost = new CountDownLatch(1);
		handle.onLost((h) -> lost.countDown());
		long blackholedAt = System.nanoTime();
		proxy.blackhole();
		assertThat(lost.await(5, TimeUnit.SECONDS)).isTrue();
		// reported no later than the lease, measured from the last successful renewal
		assertThat(Duration.ofNanos(System.nanoTime() - blackholedAt)).isLessThan(Duration.ofMillis(1500));
		assertThat(handle.isHeld()).isFalse();
		proxy.pass();
	}

	@Test
	void scriptCacheFlushFallsBackToEval() throws Exception {
		RedisLockRegistry registry = instance();
		registry.acquire("quinn", Duration.ofSeconds(1)).release();
		admin().scriptFlush();
		try (LockHandle handle = registry.acquire("quinn", Duration.ofSeconds(1))) {
			assertThat(handle.isHeld()).isTrue();
		}
	}

	@Test
	void reentryMakesNoRedisCall() throws Exception {
		RedisLockRegistry registry = instance((b) -> b.commandTimeout(Duration.ofMillis(300)));
		LockHandle outer = registry.acquire("rosa", Duration.ofSeconds(1));
		redis.server().pause();
		try {
			LockHandle inner = registry.acquire("rosa", Duration.ofSeconds(1));
			assertThat(inner.fencingToken()).isEqualTo(outer.fencingToken());
			inner.release();
		}
		finally {
			redis.server().resume();
		}
		outer.release();
	}

	@Test
	void holdAtLeastLeavesTheExpiryToRedis() throws Exception {
		RedisLockRegistry registry = instance();
		LockHandle handle = registry.acquire("sam", Duration.ofSeconds(1));
		handle.release(Duration.ofSeconds(5));
		// (the release lands shortly after it returns; the lease was 30 s before it)
		await().atMost(Duration.ofSeconds(3))
			.untilAsserted(() -> assertThat(admin().pttl(registry.storeKey("", "sam"))).isBetween(3_000L, 5_000L));
		assertThat(registry.heldLockCount()).isZero();
		assertThat(registry.localKeyCount()).isZero();
	}

	@Test
	void renewalsOfManyLocksAreBatched() throws Exception {
		RedisLockRegistry registry = instance((b) -> b.defaultLeaseTime(Duration.ofMillis(1500)));
		List<LockHandle> handles = new ArrayList<>();
		for (int i = 0; i < 1000; i++) {
			handles.add(registry.acquire(LockRequest.of("many-" + i).withWaitTime(Duration.ofSeconds(1))));
		}
		redis.server().resetStats();
		// every lock renewed at least once (one PEXPIRE per renewed key, inside the
		// script); lock by lock that would be 1,000 script calls, batched (500 keys per
		// call, locks due within a sixth of their lease together) a handful
		await().atMost(Duration.ofSeconds(10)).until(() -> redis.server().commandCalls("pexpire") >= 1000);
		assertThat(scriptCalls()).isBetween(2L, 8L);
		assertThat(handles).allMatch(LockHandle::isHeld);
		handles.forEach(LockHandle::release);
	}

	@Test
	void handsTheLockToLocalWaitersWithoutRoundTripsAndIncreasingTokens() throws Exception {
		RedisLockRegistry registry = instance();
		int threads = 4;
		int perThread = 500;
		List<Long> tokens = java.util.Collections.synchronizedList(new ArrayList<>());
		AtomicInteger holders = new AtomicInteger();
		AtomicInteger overlaps = new AtomicInteger();
		redis.server().resetStats();
		List<Future<?>> futures = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			futures.add(this.executor.submit(() -> {
				for (int i = 0; i < perThread; i++) {
					try (LockHandle handle = registry.acquire("hot", Duration.ofSeconds(30))) {
						if (holders.incrementAndGet() != 1) {
							overlaps.incrementAndGet();
						}
						tokens.add(handle.fencingToken());
						holders.decrementAndGet();
					}
				}
				return null;
			}));
		}
		for (Future<?> future : futures) {
			future.get(60, TimeUnit.SECONDS);
		}
		assertThat(overlaps).hasValue(0);
		assertThat(tokens).hasSize(threads * perThread);
		for (int i = 1; i < tokens.size(); i++) {
			assertThat(tokens.get(i)).as("token %d", i).isGreaterThan(tokens.get(i - 1));
		}
		// hand-offs between local threads skip Redis: well under one script call per
		// acquisition
		assertThat(scriptCalls()).isLessThan(threads * perThread);
	}

	@Test
	void handOffsAreBoundedSoThatAnotherInstanceGetsItsTurn() throws Exception {
		RedisLockRegistry busy = instance();
		RedisLockRegistry other = instance();
		java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
		List<Future<?>> hammering = new ArrayList<>();
		for (int t = 0; t < 4; t++) {
			hammering.add(this.executor.submit(() -> {
				while (!stop.get()) {
					busy.acquire("contended", Duration.ofSeconds(30)).release();
				}
				return null;
			}));
		}
		try {
			for (int i = 0; i < 5; i++) {
				try (LockHandle handle = other.acquire("contended", Duration.ofSeconds(10))) {
					assertThat(handle.isHeld()).isTrue();
				}
			}
		}
		finally {
			stop.set(true);
		}
		for (Future<?> future : hammering) {
			future.get(30, TimeUnit.SECONDS);
		}
	}

	@Test
	void releaseNotAwaitedStillOrdersLaterAcquiresAndReportsLoss() throws Exception {
		// the opt-in
		RedisLockRegistry registry = instance((b) -> b.awaitRelease(false));
		for (int i = 0; i < 100; i++) {
			LockHandle handle = registry.acquire("tess", Duration.ofSeconds(1));
			handle.release();
		}
		LockHandle handle = registry.acquire("tess", Duration.ofSeconds(1));
		String storeKey = registry.storeKey("", "tess");
		admin().set(storeKey, "someone-else-0000000000000000000");
		handle.release();
		await().atMost(Duration.ofSeconds(5)).until(() -> registry.lostBeforeReleaseCount() == 1);
		assertThat(admin().get(storeKey)).isEqualTo("someone-else-0000000000000000000");
	}

	@Test
	void aTryRightAfterAReleaseNotAwaitedSucceedsInTheSameInstance() throws Exception {
		// through a delaying proxy: every release is still in flight when the next try
		// starts
		var proxy = redis.newProxy().delay(Duration.ofMillis(20));
		try {
			RedisLockRegistry delayed = instance(redis.newClient(proxy),
					(b) -> b.commandTimeout(Duration.ofSeconds(5)).awaitRelease(false));
			for (int i = 0; i < 20; i++) {
				Optional<LockHandle> handle = delayed.tryAcquire("again");
				assertThat(handle).as("try %d", i).isPresent();
				handle.get().release();
			}
			// and from another thread of the same instance
			delayed.acquire("again", Duration.ZERO).release();
			assertThat(this.executor.submit(() -> delayed.tryAcquire("again")).get(10, TimeUnit.SECONDS))
				.hasValueSatisfying(LockHandle::release);
		}
		finally {
			proxy.close();
		}
	}

	@Test
	void awaitedReleaseFreesTheLockForEveryInstanceWhenItReturns() {
		RedisLockRegistry awaiting = instance();
		RedisLockRegistry other = instance((b) -> b.awaitRelease(false));
		assertThat(awaiting.isAwaitRelease()).as("the default").isTrue();
		assertThat(other.isAwaitRelease()).isFalse();
		for (int i = 0; i < 200; i++) {
			awaiting.acquire("free-at-once", Duration.ofSeconds(1)).release();
			// no wait: the key is already gone in Redis
			Optional<LockHandle> next = other.tryAcquire("free-at-once");
			assertThat(next).as("try %d right after an awaited release", i).isPresent();
			next.get().release();
			// let the other instance's release land before the next round
			awaiting.acquire("free-at-once", Duration.ofSeconds(1)).release();
		}
	}

	@Test
	void noWaitCallsShareTheHeldAnswerUntilTheReleaseIsAnnouncedWhenReleasesAreNotAwaited() {
		RedisLockRegistry holder = instance((b) -> b.awaitRelease(false));
		RedisLockRegistry other = instance((b) -> b.recheckInterval(Duration.ofSeconds(10)).awaitRelease(false));
		LockHandle held = holder.acquire("shared", Duration.ofSeconds(1));
		// (an answer that races with the subscription's own wake-up is not kept: ask
		// until one is)
		await().atMost(Duration.ofSeconds(5)).until(() -> {
			long calls = scriptCalls();
			assertThat(other.tryAcquire("shared")).isEmpty();
			return scriptCalls() == calls;
		});
		long before = scriptCalls();
		for (int i = 0; i < 100; i++) {
			assertThat(other.tryAcquire("shared")).isEmpty();
		}
		// answered from the first answer: not one more call
		assertThat(scriptCalls()).isEqualTo(before);
		// a waiting call still asks Redis
		assertThat(other.tryAcquire(LockRequest.of("shared").withWaitTime(Duration.ofMillis(1)))).isEmpty();
		assertThat(scriptCalls()).isGreaterThan(before);
		held.release();
		// the release is announced: far sooner than the recheck interval or the lease
		await().atMost(Duration.ofSeconds(3)).until(() -> other.tryAcquire("shared").map((handle) -> {
			handle.release();
			return true;
		}).orElse(false));
	}

	@Test
	void aHeldAnswerIsNotSharedByDefault() {
		RedisLockRegistry holder = instance();
		RedisLockRegistry strict = instance();
		LockHandle held = holder.acquire("strict", Duration.ofSeconds(1));
		long before = scriptCalls();
		for (int i = 0; i < 20; i++) {
			assertThat(strict.tryAcquire("strict")).isEmpty();
		}
		assertThat(scriptCalls() - before).isEqualTo(20);
		held.release();
	}

	@Test
	void aSharedHeldAnswerEndsWithTheHoldersLeaseOrAKeptRelease() {
		// the holder stops renewing (closed, not released): only its lease ends the lock
		RedisLockRegistry crashed = instance((b) -> b.defaultLeaseTime(Duration.ofMillis(500)).awaitRelease(false));
		RedisLockRegistry other = instance((b) -> b.recheckInterval(Duration.ofSeconds(30)).awaitRelease(false));
		crashed.acquire("expiring", Duration.ofSeconds(1));
		assertThat(other.tryAcquire("expiring")).isEmpty();
		crashed.close();
		await().atMost(Duration.ofSeconds(3)).until(() -> other.tryAcquire("expiring").map((handle) -> {
			handle.release();
			return true;
		}).orElse(false));

		// a release that keeps the key a while announces it too, so the other instance
		// asks again instead of answering "held" until its recheck interval
		RedisLockRegistry holder = instance((b) -> b.awaitRelease(false));
		LockHandle held = holder.acquire("kept", Duration.ofSeconds(1));
		assertThat(other.tryAcquire("kept")).isEmpty();
		held.release(Duration.ofMillis(300));
		await().atMost(Duration.ofSeconds(3)).until(() -> other.tryAcquire("kept").map((handle) -> {
			handle.release();
			return true;
		}).orElse(false));
	}

	@Test
	void aRedisRestartEndsEverySharedHeldAnswer() {
		RedisLockRegistry holder = instance((b) -> b.awaitRelease(false));
		RedisLockRegistry other = instance((b) -> b.recheckInterval(Duration.ofSeconds(30)).awaitRelease(false));
		holder.acquire("restarted", Duration.ofSeconds(1));
		assertThat(other.tryAcquire("restarted")).isEmpty();
		// the key is gone with the restart (no persistence); no release is announced
		redis.server().restart();
		await().atMost(Duration.ofSeconds(10))
			.ignoreException(LockUnavailableException.class)
			.until(() -> other.tryAcquire("restarted").map((handle) -> {
				handle.release();
				return true;
			}).orElse(false));
	}

	private static long scriptCalls() {
		return redis.server().commandCalls("evalsha") + redis.server().commandCalls("eval");
	}

	@Test
	void rejectsAPrefixThatWouldChangeTheHashSlot() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RedisLockRegistry.builder(redis.client()).keyPrefix("app{1}:"))
			.withMessageContaining("'app{1}:'");
	}

}
