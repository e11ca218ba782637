package io.github.userlock.metrics;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockHandle;
import io.github.userlock.LockInterruptedException;
import io.github.userlock.LockRequest;
import io.github.userlock.LockUnavailableException;
import io.github.userlock.redis.RedisLockRegistry;
import io.github.userlock.test.FaultProxy;
import io.github.userlock.test.RedisServerExtension;
import io.lettuce.core.RedisClient;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.search.MeterNotFoundException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The meters of {@link LockMetricsObserver} on the real Redis engine: names, tags and
 * counts for each outcome, and bounded tag values.
 */
@Timeout(60)
class LockMetricsObserverTests {

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension();

	private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

	private final List<RedisLockRegistry> registries = new ArrayList<>();

	@AfterEach
	void close() {
		this.registries.forEach(RedisLockRegistry::close);
	}

	private RedisLockRegistry instance(RedisClient client, UnaryOperator<RedisLockRegistry.Builder> settings) {
		RedisLockRegistry registry = settings.apply(RedisLockRegistry.builder(client)).build();
		ObservationRegistry observations = ObservationRegistry.create();
		observations.observationConfig().observationHandler(new DefaultMeterObservationHandler(this.meters));
		registry.setObserver(new LockMetricsObserver(this.meters, observations));
		this.registries.add(registry);
		return registry;
	}

	private RedisLockRegistry instance() {
		return instance(redis.newClient(), (b) -> b);
	}

	private long acquires(String name, String outcome) {
		try {
			return this.meters.get("lock.acquire").tags("lock.name", name, "outcome", outcome).timer().count();
		}
		catch (MeterNotFoundException ex) {
			return 0;
		}
	}

	private double counter(String name, String... tags) {
		try {
			return this.meters.get(name).tags(tags).counter().count();
		}
		catch (MeterNotFoundException ex) {
			return 0;
		}
	}

	@Test
	void acquiredCallIsTimedAndTheHoldIsAnActiveLongTaskUntilRelease() {
		RedisLockRegistry registry = instance();
		LockHandle handle = registry.acquire(LockRequest.of("user-1").withNamespace("wallet"));
		assertThat(acquires("wallet", "acquired")).isEqualTo(1);
		assertThat(this.meters.get("lock.held").tags("lock.name", "wallet").longTaskTimer().activeTasks()).isEqualTo(1);
		handle.release();
		assertThat(this.meters.get("lock.held").tags("lock.name", "wallet").longTaskTimer().activeTasks()).isZero();
		try (LockHandle other = registry.acquire("user-2", Duration.ofSeconds(1))) {
			assertThat(acquires("default", "acquired")).isEqualTo(1);
			assertThat(this.meters.get("lock.held").tags("lock.name", "default").longTaskTimer().activeTasks())
				.isEqualTo(1);
		}
		// exactly the documented tags, plus the error tag of Micrometer's meter handler
		assertThat(this.meters.get("lock.acquire").timers()).allSatisfy((timer) -> assertThat(
				timer.getId().getTags().stream().map(io.micrometer.core.instrument.Tag::getKey).toList())
			.containsExactlyInAnyOrder("lock.name", "outcome", "error"));
	}

	@Test
	void conflictIsCountedForTryAndForAWaitThatRunsOut() throws Exception {
		RedisLockRegistry registry = instance();
		try (LockHandle held = registry.acquire("user-3", Duration.ofSeconds(1))) {
			CompletableFuture.runAsync(() -> {
				assertThat(registry.tryAcquire("user-3")).isEmpty();
				assertThatExceptionOfType(LockConflictException.class)
					.isThrownBy(() -> registry.acquire("user-3", Duration.ofMillis(50)));
			}).get(10, TimeUnit.SECONDS);
		}
		assertThat(acquires("default", "conflict")).isEqualTo(2);
		assertThat(acquires("default", "acquired")).isEqualTo(1);
		assertThat(this.meters.get("lock.acquire").tags("outcome", "conflict").timer().max(TimeUnit.MILLISECONDS))
			.isGreaterThanOrEqualTo(50);
	}

	@Test
	void unreachableRedisIsCountedUnavailable() {
		RedisLockRegistry registry = instance(redis.newClient(), (b) -> b.commandTimeout(Duration.ofMillis(300)));
		try (LockHandle warmUp = registry.acquire("user-4", Duration.ofSeconds(1))) {
			assertThat(warmUp.isHeld()).isTrue();
		}
		redis.server().stop();
		assertThatExceptionOfType(LockUnavailableException.class)
			.isThrownBy(() -> registry.acquire("user-4", Duration.ofSeconds(1)));
		assertThat(acquires("default", "unavailable")).isEqualTo(1);
		assertThat(this.meters.get("lock.acquire").tags("outcome", "unavailable").timer().getId().getTag("error"))
			.isEqualTo("LockUnavailableException");
	}

	@Test
	void interruptedWaitIsCountedInterrupted() throws Exception {
		RedisLockRegistry registry = instance();
		try (LockHandle held = registry.acquire("user-5", Duration.ofSeconds(1))) {
			CompletableFuture.runAsync(() -> {
				Thread.currentThread().interrupt();
				try {
					assertThatExceptionOfType(LockInterruptedException.class)
						.isThrownBy(() -> registry.acquire("user-5", Duration.ofSeconds(10)));
				}
				finally {
					Thread.interrupted();
				}
			}).get(10, TimeUnit.SECONDS);
		}
		assertThat(acquires("default", "interrupted")).isEqualTo(1);
	}

	@Test
	void leaseLostThroughTheFaultProxyIsCountedWhileHeldAndAtRelease() throws Exception {
		FaultProxy proxy = redis.newProxy();
		RedisLockRegistry registry = instance(redis.newClient(proxy),
				(b) -> b.defaultLeaseTime(Duration.ofMillis(900)).commandTimeout(Duration.ofMillis(200)));
		LockHandle handle = registry.acquire(LockRequest.of("user-6").withNamespace("wallet"));
		CountDownLatch lost = new CountDownLatch(1);
		handle.onLost((h) -> lost.countDown());
		proxy.blackhole();
		assertThat(lost.await(5, TimeUnit.SECONDS)).isTrue();
		assertThat(counter("lock.lost", "lock.name", "wallet", "phase", "held")).isEqualTo(1);
		// the watchdog's renewals that went into the black hole failed
		await().atMost(Duration.ofSeconds(5)).until(() -> counter("lock.renewals", "outcome", "failed") >= 1);
		proxy.cutAll();
		proxy.pass();
		await().atMost(Duration.ofSeconds(10))
			.ignoreException(LockUnavailableException.class)
			.until(() -> registry.tryAcquire("probe").map((probe) -> {
				probe.release();
				return true;
			}).orElse(false));
		handle.release();
		await().atMost(Duration.ofSeconds(5))
			.until(() -> counter("lock.lost", "lock.name", "wallet", "phase", "release") == 1);
		assertThat(counter("lock.lost", "lock.name", "wallet", "phase", "held")).isEqualTo(1);
		assertThat(this.meters.get("lock.held").tags("lock.name", "wallet").longTaskTimer().activeTasks()).isZero();
	}

	@Test
	void renewalsAndTheirRedisCallsAreCounted() {
		RedisLockRegistry registry = instance(redis.newClient(), (b) -> b.defaultLeaseTime(Duration.ofMillis(300)));
		try (LockHandle first = registry.acquire("user-7", Duration.ofSeconds(1));
				LockHandle second = registry.acquire("user-8", Duration.ofSeconds(1))) {
			// a third of the lease: renewed more than once while held
			await().atMost(Duration.ofSeconds(5)).until(() -> counter("lock.renewals", "outcome", "renewed") >= 4);
			assertThat(first.isHeld()).isTrue();
			assertThat(second.isHeld()).isTrue();
		}
		double renewed = counter("lock.renewals", "outcome", "renewed");
		double calls = counter("lock.renewal.calls");
		assertThat(calls).isGreaterThanOrEqualTo(1).isLessThanOrEqualTo(renewed);
		assertThat(counter("lock.renewals", "outcome", "lost")).isZero();
		assertThat(counter("lock.renewals", "outcome", "failed")).isZero();
	}

	@Test
	void tenThousandDistinctKeysCreateNoNewTimeSeries() {
		RedisLockRegistry registry = instance();
		registry.acquire(LockRequest.of("user-0").withNamespace("wallet")).release();
		assertThatThrownBy(() -> registry.acquire(LockRequest.of("").withNamespace("wallet")))
			.isInstanceOf(IllegalArgumentException.class);
		List<Meter.Id> before = this.meters.getMeters().stream().map(Meter::getId).toList();
		for (int i = 1; i <= 10_000; i++) {
			registry.acquire(LockRequest.of("user-" + i).withNamespace("wallet")).release();
		}
		assertThat(this.meters.getMeters().stream().map(Meter::getId).toList())
			.containsExactlyInAnyOrderElementsOf(before);
		assertThat(acquires("wallet", "acquired")).isEqualTo(10_001);
		assertThat(acquires("wallet", "error")).isEqualTo(1);
	}

}
