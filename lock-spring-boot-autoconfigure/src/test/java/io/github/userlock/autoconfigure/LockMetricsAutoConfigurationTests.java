package io.github.userlock.autoconfigure;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockHandle;
import io.github.userlock.LockRegistry;
import io.github.userlock.LockRequest;
import io.github.userlock.UserLock;
import io.github.userlock.metrics.LockCallObservationAdvisor;
import io.github.userlock.metrics.LockMetricsObserver;
import io.github.userlock.support.LoggingLockObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistryAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * {@link LockMetricsAutoConfiguration}: the meters and observations with Boot's
 * Micrometer auto-configuration, the {@code lock.call} span around {@code lock.acquire},
 * and both ways to turn it off.
 */
@Timeout(60)
class LockMetricsAutoConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class, LockObserverAutoConfiguration.class,
				LockMetricsAutoConfiguration.class))
		.withPropertyValues("lock.store=memory")
		.withBean(Wallet.class);

	@Test
	void bootsMicrometerAutoConfigurationTimesAcquiresAndCallsWithTheirTags() {
		this.runner
			.withConfiguration(AutoConfigurations.of(ObservationAutoConfiguration.class, MetricsAutoConfiguration.class,
					CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class))
			.run((context) -> {
				assertThat(context).hasSingleBean(LockMetricsObserver.class)
					.hasSingleBean(LockCallObservationAdvisor.class);
				MeterRegistry meters = context.getBean(MeterRegistry.class);
				assertThat(context.getBean(LockMetricsObserver.class).observationRegistry())
					.isSameAs(context.getBean(ObservationRegistry.class));
				Wallet wallet = context.getBean(Wallet.class);
				assertThat(wallet.pay("42")).isEqualTo("paid 42");
				assertThat(
						meters.get("lock.acquire").tags("lock.name", "wallet", "outcome", "acquired").timer().count())
					.isEqualTo(1);
				assertThat(meters.get("lock.call")
					.tags("lock.name", "wallet", "method", "Wallet.pay", "outcome", "success")
					.timer()
					.count()).isEqualTo(1);
				assertThat(meters.get("lock.held").tags("lock.name", "wallet").longTaskTimer().activeTasks()).isZero();
			});
	}

	@Test
	void conflictOfTheMethodIsTheOutcomeOfItsCall() {
		this.runner.withBean(SimpleMeterRegistry.class).run((context) -> {
			MeterRegistry meters = context.getBean(MeterRegistry.class);
			LockRegistry registry = context.getBean(LockRegistry.class);
			Wallet wallet = context.getBean(Wallet.class);
			try (LockHandle held = registry.acquire(LockRequest.of("7").withNamespace("wallet"))) {
				CompletableFuture
					.runAsync(() -> assertThatExceptionOfType(LockConflictException.class)
						.isThrownBy(() -> wallet.payNow("7")))
					.get(10, TimeUnit.SECONDS);
			}
			assertThat(meters.get("lock.call")
				.tags("lock.name", "wallet", "method", "Wallet.payNow", "outcome", "conflict")
				.timer()
				.count()).isEqualTo(1);
			assertThat(meters.get("lock.acquire").tags("lock.name", "wallet", "outcome", "conflict").timer().count())
				.isEqualTo(1);
		});
	}

	@Test
	void lockAcquireIsASpanNestedInLockCall() {
		TestObservationRegistry observations = TestObservationRegistry.create();
		this.runner.withBean(SimpleMeterRegistry.class)
			.withBean(ObservationRegistry.class, () -> observations)
			.run((context) -> {
				context.getBean(Wallet.class).pay("42");
				TestObservationRegistryAssert.assertThat(observations)
					.hasNumberOfObservationsEqualTo(2)
					.hasObservationWithNameEqualTo("lock.call")
					.that()
					.hasLowCardinalityKeyValue("lock.name", "wallet")
					.hasLowCardinalityKeyValue("method", "Wallet.pay")
					.hasLowCardinalityKeyValue("outcome", "success")
					.doesNotHaveParentObservation()
					.hasBeenStopped();
				TestObservationRegistryAssert.assertThat(observations)
					.hasObservationWithNameEqualTo("lock.acquire")
					.that()
					.hasLowCardinalityKeyValue("lock.name", "wallet")
					.hasLowCardinalityKeyValue("outcome", "acquired")
					.hasParentObservationContextMatching((parent) -> "lock.call".equals(parent.getName()))
					.hasBeenStopped();
			});
	}

	@Test
	void aMonoOrFluxIsObservedPerSubscriptionWithTheAcquireNestedInIt() {
		TestObservationRegistry observations = TestObservationRegistry.create();
		this.runner.withBean(SimpleMeterRegistry.class)
			.withBean(ObservationRegistry.class, () -> observations)
			.run((context) -> {
				Wallet wallet = context.getBean(Wallet.class);
				reactor.core.publisher.Mono<String> later = wallet.payLater("42");
				// nothing observed before a subscription
				TestObservationRegistryAssert.assertThat(observations).doesNotHaveAnyObservation();
				assertThat(later.block(Duration.ofSeconds(10))).isEqualTo("paid 42");
				assertThat(wallet.payInParts("43").collectList().block(Duration.ofSeconds(10))).hasSize(2);
				TestObservationRegistryAssert.assertThat(observations)
					.hasNumberOfObservationsWithNameEqualTo("lock.call", 2)
					.hasNumberOfObservationsWithNameEqualTo("lock.acquire", 2)
					.hasObservationWithNameEqualTo("lock.call")
					.that()
					.hasLowCardinalityKeyValue("method", "Wallet.payLater")
					.hasLowCardinalityKeyValue("outcome", "success")
					.hasBeenStopped();
				TestObservationRegistryAssert.assertThat(observations)
					.hasObservationWithNameEqualTo("lock.acquire")
					.that()
					.hasParentObservationContextMatching((parent) -> "lock.call".equals(parent.getName()))
					.hasBeenStopped();
				// a second subscription is a second call
				assertThat(later.block(Duration.ofSeconds(10))).isEqualTo("paid 42");
				TestObservationRegistryAssert.assertThat(observations)
					.hasNumberOfObservationsWithNameEqualTo("lock.call", 3);
			});
	}

	@Test
	void offWithThePropertyButTheLockStillWorks() {
		this.runner.withBean(SimpleMeterRegistry.class)
			.withPropertyValues("lock.metrics.enabled=false")
			.run((context) -> {
				assertThat(context).doesNotHaveBean(LockMetricsObserver.class)
					.doesNotHaveBean(LockCallObservationAdvisor.class)
					.hasSingleBean(LoggingLockObserver.class);
				assertThat(context.getBean(Wallet.class).pay("42")).isEqualTo("paid 42");
				assertThat(context.getBean(MeterRegistry.class).find("lock.acquire").meters()).isEmpty();
				assertThat(context.getBean(MeterRegistry.class).find("lock.call").meters()).isEmpty();
			});
	}

	@Test
	void offWithoutMicrometerButTheLockStillWorks() {
		this.runner.withClassLoader(new FilteredClassLoader(MeterRegistry.class)).run((context) -> {
			assertThat(context).hasNotFailed()
				.doesNotHaveBean(LockMetricsObserver.class)
				.doesNotHaveBean(LockCallObservationAdvisor.class);
			assertThat(context.getBean(Wallet.class).pay("42")).isEqualTo("paid 42");
		});
	}

	@Test
	void noMeterRegistryMeansNoMetricsObserver() {
		this.runner.run((context) -> {
			assertThat(context).hasNotFailed().doesNotHaveBean(LockMetricsObserver.class);
			assertThat(context.getBean(Wallet.class).pay("42")).isEqualTo("paid 42");
		});
	}

	/** Public, so that CGLIB can subclass it from the filtered class loader. */
	public static class Wallet {

		@UserLock(name = "${wallet.lock-name:wallet}", key = "#uid")
		public String pay(String uid) {
			return "paid " + uid;
		}

		@UserLock(name = "wallet", key = "#uid", waitTime = "0s")
		public String payNow(String uid) {
			return "paid " + uid;
		}

		@UserLock(name = "wallet", key = "#uid")
		public reactor.core.publisher.Mono<String> payLater(String uid) {
			return reactor.core.publisher.Mono.fromSupplier(() -> "paid " + uid);
		}

		@UserLock(name = "wallet", key = "#uid")
		public reactor.core.publisher.Flux<String> payInParts(String uid) {
			return reactor.core.publisher.Flux.just("part 1 " + uid, "part 2 " + uid);
		}

	}

}
