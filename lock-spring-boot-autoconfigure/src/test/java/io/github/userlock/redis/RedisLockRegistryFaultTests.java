package io.github.userlock.redis;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

import io.github.userlock.LockHandle;
import io.github.userlock.LockInterruptedException;
import io.github.userlock.LockListener;
import io.github.userlock.LockRequest;
import io.github.userlock.LockUnavailableException;
import io.github.userlock.test.FaultProxy;
import io.github.userlock.test.RedisServerExtension;
import io.lettuce.core.RedisClient;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.event.connection.DisconnectedEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * The faults after which a caller was told "failed" or a command was given up on, on the
 * real redis-server: whatever gave up first, nothing stays locked for a caller that holds
 * nothing; nothing waits in a buffer after a reconnect; a loss found by a renewal reaches
 * the holder after a hand-off; a slow listener delays no renewal.
 */
@Timeout(120)
class RedisLockRegistryFaultTests {

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension();

	private final List<RedisLockRegistry> registries = new ArrayList<>();

	private final ExecutorService executor = Executors.newCachedThreadPool();

	@AfterEach
	void close() {
		redis.server().resume();
		redis.server()
			.admin((admin) -> admin.dispatch(io.lettuce.core.protocol.CommandType.CLIENT,
					new io.lettuce.core.output.StatusOutput<>(io.lettuce.core.codec.StringCodec.UTF8),
					new io.lettuce.core.protocol.CommandArgs<>(io.lettuce.core.codec.StringCodec.UTF8).add("UNPAUSE")));
		this.executor.shutdownNow();
		this.registries.forEach(RedisLockRegistry::close);
	}

	/** A registry, connected before it is returned (a loaded machine may be slow). */
	private RedisLockRegistry instance(RedisClient client, UnaryOperator<RedisLockRegistry.Builder> settings) {
		RedisLockRegistry registry = settings.apply(RedisLockRegistry.builder(client)).build();
		this.registries.add(registry);
		await().atMost(Duration.ofSeconds(30))
			.ignoreException(LockUnavailableException.class)
			.until(() -> registry.tryAcquire("connected").map((handle) -> {
				handle.release();
				return true;
			}).orElse(false));
		return registry;
	}

	private RedisLockRegistry instance() {
		return instance(redis.newClient(), (b) -> b);
	}

	/** A client whose driver gives up on every command after {@code timeout}. */
	private static RedisClient clientTimingOutAfter(Duration timeout) {
		RedisClient client = redis.newClient();
		client.setOptions(client.getOptions().mutate().timeoutOptions(TimeoutOptions.enabled(timeout)).build());
		return client;
	}

	/**
	 * Holds every client's commands (ours too) for {@code pause}; returns when it ends.
	 */
	private static long pauseAllCommands(Duration pause) {
		long endsAt = System.nanoTime() + pause.toNanos();
		redis.server().admin((admin) -> admin.clientPause(pause.toMillis()));
		return endsAt;
	}

	private static LockRequest request(String key, Duration wait, Duration lease) {
		return LockRequest.of(key).withWaitTime(wait).withLeaseTime(lease);
	}

	private static String storeKey(RedisLockRegistry registry, String key) {
		return registry.storeKey("", key);
	}

	@Test
	void anAcquireTheDriverTimedOutLeavesNothingLockedWhenRedisRunsItLate() {
		// a driver timeout of its own (a fixed TimeoutOptions, e.g. from a client options
		// customizer) of 300 ms, shorter than lock.command-timeout=2s
		RedisLockRegistry impatient = instance(clientTimingOutAfter(Duration.ofMillis(300)), (b) -> b);
		assertGivenUpAcquireLeavesNothingLocked(impatient, "driver-timeout");
	}

	@Test
	void anAcquireTheLockTimedOutLeavesNothingLockedWhenRedisRunsItLate() {
		RedisLockRegistry impatient = instance(redis.newClient(), (b) -> b.commandTimeout(Duration.ofMillis(300)));
		assertGivenUpAcquireLeavesNothingLocked(impatient, "lock-timeout");
	}

	@Test
	void anAcquireGivenUpOnAfterAScriptFlushIsStillUndone() {
		RedisLockRegistry impatient = instance(clientTimingOutAfter(Duration.ofMillis(300)), (b) -> b);
		// warm: connected, scripts loaded; then they are gone and the acquire needs the
		// EVAL fallback, which runs after the caller gave up
		impatient.acquire("warm", Duration.ZERO).release();
		redis.server().admin((admin) -> admin.scriptFlush());
		assertGivenUpAcquireLeavesNothingLocked(impatient, "flushed");
	}

	private void assertGivenUpAcquireLeavesNothingLocked(RedisLockRegistry impatient, String key) {
		RedisLockRegistry other = instance();
		LockHandle unrelated = other.acquire("unrelated", Duration.ZERO);
		long pauseEnds = pauseAllCommands(Duration.ofMillis(1500));
		long start = System.nanoTime();
		assertThatExceptionOfType(LockUnavailableException.class)
			.isThrownBy(() -> impatient.acquire(key, Duration.ofSeconds(5)));
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1400));
		// the acquire runs when the pause ends; the undo right behind it frees the key
		long leftAfterPause = Math.max(0, pauseEnds - System.nanoTime()) + TimeUnit.SECONDS.toNanos(1);
		await().atMost(Duration.ofNanos(leftAfterPause)).pollInterval(Duration.ofMillis(20)).until(() -> {
			Optional<LockHandle> next = other.tryAcquire(key);
			next.ifPresent(LockHandle::release);
			return next.isPresent();
		});
		// nothing else was deleted
		long exists = redis.server().admin((admin) -> admin.exists(storeKey(other, "unrelated")));
		assertThat(exists).isEqualTo(1);
		assertThat(unrelated.isHeld()).isTrue();
		unrelated.release();
	}

	@Test
	void anInterruptedAcquireLeavesNothingLocked() throws Exception {
		RedisLockRegistry registry = instance();
		RedisLockRegistry other = instance();
		registry.acquire("warm", Duration.ZERO).release();
		long pauseEnds = pauseAllCommands(Duration.ofMillis(1500));
		AtomicReference<Thread> caller = new AtomicReference<>();
		CountDownLatch started = new CountDownLatch(1);
		Future<?> call = this.executor.submit(() -> {
			caller.set(Thread.currentThread());
			started.countDown();
			return registry.acquire("interrupted", Duration.ofSeconds(5));
		});
		assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
		// interrupt once the call waits for Redis's answer
		await().atMost(Duration.ofSeconds(1))
			.until(() -> caller.get().getState() == Thread.State.TIMED_WAITING
					|| caller.get().getState() == Thread.State.WAITING);
		caller.get().interrupt();
		assertThatExceptionOfType(java.util.concurrent.ExecutionException.class)
			.isThrownBy(() -> call.get(5, TimeUnit.SECONDS))
			.withCauseInstanceOf(LockInterruptedException.class);
		long leftAfterPause = Math.max(0, pauseEnds - System.nanoTime()) + TimeUnit.SECONDS.toNanos(1);
		await().atMost(Duration.ofNanos(leftAfterPause)).pollInterval(Duration.ofMillis(20)).until(() -> {
			Optional<LockHandle> next = other.tryAcquire("interrupted");
			next.ifPresent(LockHandle::release);
			return next.isPresent();
		});
	}

	@Test
	void aReleaseSentWhileDisconnectedIsWrittenWhenTheConnectionComesBack() {
		FaultProxy proxy = redis.newProxy();
		RedisClient client = redis.newClient(proxy);
		AtomicInteger disconnects = new AtomicInteger();
		client.getResources().eventBus().get().subscribe((event) -> {
			if (event instanceof DisconnectedEvent disconnected
					&& disconnected.remoteAddress() instanceof InetSocketAddress address
					&& address.getPort() == proxy.port()) {
				disconnects.incrementAndGet();
			}
		});
		RedisLockRegistry cut = instance(client, (b) -> b.commandTimeout(Duration.ofMillis(500)));
		RedisLockRegistry other = instance();
		LockHandle held = cut.acquire("buffered", Duration.ZERO);
		proxy.refuse(true);
		proxy.cutAll();
		// both connections of the registry (commands, Pub/Sub) know they are down
		await().atMost(Duration.ofSeconds(5)).until(() -> disconnects.get() >= 2);
		// written to the driver's buffer while disconnected; fails after the command
		// timeout (a WARN)
		held.release();
		assertThat(other.tryAcquire("buffered")).isEmpty();
		long accepted = proxy.acceptedConnections();
		proxy.refuse(false);
		await().atMost(Duration.ofSeconds(30)).until(() -> proxy.acceptedConnections() >= accepted + 2);
		// no further traffic from that instance: the reconnect alone writes the release
		await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(20)).until(() -> {
			Optional<LockHandle> next = other.tryAcquire("buffered");
			next.ifPresent(LockHandle::release);
			return next.isPresent();
		});
	}

	@Test
	void aLossFoundByARenewalInFlightDuringAHandOffIsReportedToTheNewHolder() throws Exception {
		RedisLockRegistry registry = instance();
		LockHandle first = registry.acquire(request("handed-lost", Duration.ZERO, Duration.ofMillis(1500)));
		AtomicReference<Thread> waiter = new AtomicReference<>();
		Future<LockHandle> second = this.executor.submit(() -> {
			waiter.set(Thread.currentThread());
			return registry.acquire(request("handed-lost", Duration.ofSeconds(20), Duration.ofMillis(1500)));
		});
		// queued behind the holder in this instance
		await().atMost(Duration.ofSeconds(5))
			.until(() -> waiter.get() != null && waiter.get().getState() == Thread.State.TIMED_WAITING);
		// taken over in Redis behind the registry's back
		redis.server()
			.admin((admin) -> admin.set(storeKey(registry, "handed-lost"), "someone-else-0000000000000000000"));
		// the watchdog's renewal goes to a stopped Redis and waits there
		redis.server().pause();
		await().atMost(Duration.ofSeconds(5)).until(() -> registry.renewalCalls() == 1);
		// handed to the waiting thread while the renewal is in flight
		first.release();
		LockHandle handedTo = second.get(5, TimeUnit.SECONDS);
		CountDownLatch told = new CountDownLatch(1);
		handedTo.onLost((handle) -> told.countDown());
		redis.server().resume();
		assertThat(told.await(5, TimeUnit.SECONDS)).as("the new holder is told by the renewal's own answer").isTrue();
		assertThat(registry.renewalCalls()).as("no second renewal was needed to find it").isEqualTo(1);
		assertThat(handedTo.isHeld()).isFalse();
		handedTo.release();
	}

	@Test
	void aSlowListenerDelaysNoRenewal() throws Exception {
		RedisLockRegistry registry = instance();
		CountDownLatch inListener = new CountDownLatch(1);
		CountDownLatch unblock = new CountDownLatch(1);
		registry.addListener(new LockListener() {
			@Override
			public void lockLost(String key, long fencingToken) {
				inListener.countDown();
				try {
					unblock.await(30, TimeUnit.SECONDS);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			}
		});
		try {
			LockHandle kept = registry.acquire(request("kept", Duration.ZERO, Duration.ofMillis(600)));
			LockHandle taken = registry.acquire(request("taken", Duration.ZERO, Duration.ofMillis(600)));
			redis.server().admin((admin) -> admin.set(storeKey(registry, "taken"), "someone-else-0000000000000000000"));
			assertThat(inListener.await(5, TimeUnit.SECONDS)).isTrue();
			// the listener blocks; the other lock is still renewed past several leases
			long renewals = registry.renewalCalls();
			await().atMost(Duration.ofSeconds(10)).until(() -> registry.renewalCalls() >= renewals + 6);
			assertThat(kept.isHeld()).isTrue();
			long pttl = redis.server().admin((admin) -> admin.pttl(storeKey(registry, "kept")));
			assertThat(pttl).isPositive();
			taken.release();
			kept.release();
		}
		finally {
			unblock.countDown();
		}
	}

	@Test
	void scriptsAreLoadedAgainWhenTheConnectionComesBackAfterARestart() {
		RedisLockRegistry registry = instance();
		registry.acquire("restarted", Duration.ZERO).release();
		redis.server().restart();
		// the registry reconnects by itself and loads its three scripts
		await().atMost(Duration.ofSeconds(30)).until(() -> redis.server().commandCalls("script|load") >= 3);
		registry.acquire("restarted", Duration.ofSeconds(5)).release();
		assertThat(redis.server().commandCalls("evalsha")).isPositive();
		assertThat(redis.server().commandCalls("eval")).as("no call needed the EVAL fallback").isZero();
	}

}
