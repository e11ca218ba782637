package io.github.userlock.test;

import java.lang.management.ManagementFactory;
import java.time.Duration;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.blockhound.BlockHound;
import reactor.blockhound.BlockingOperationError;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The BlockHound set-up works on this JDK: the tagged test runs in its own surefire
 * execution with the JVM flags BlockHound needs, installs it, and a blocking call on a
 * Reactor parallel thread is reported, while the same call on a bounded-elastic thread is
 * allowed.
 */
@BlockHoundTest
@Timeout(60)
class BlockHoundSetupTests {

	@BeforeAll
	static void installBlockHound() {
		BlockHound.install();
	}

	@Test
	void runsWithTheJvmFlagsBlockHoundNeeds() {
		assertThat(ManagementFactory.getRuntimeMXBean().getInputArguments())
			.contains("-XX:+AllowRedefinitionToAddDeleteMethods", "-XX:+EnableDynamicAgentLoading");
	}

	@Test
	void blockingOnAParallelThreadIsReported() {
		Throwable thrown = catchThrowable(() -> sleepAfterDelay().block(Duration.ofSeconds(10)));
		Throwable error = Exceptions.unwrap(thrown);
		assertThat(error).isInstanceOf(BlockingOperationError.class)
			.hasMessageContaining("Blocking call")
			.hasMessageContaining("java.lang.Thread.sleep");
	}

	@Test
	void blockingOnABoundedElasticThreadIsAllowed() {
		Long value = Mono.delay(Duration.ofMillis(1))
			.publishOn(Schedulers.boundedElastic())
			.doOnNext(BlockHoundSetupTests::sleep)
			.block(Duration.ofSeconds(10));
		assertThat(value).isZero();
	}

	/**
	 * {@code Mono.delay} emits on {@code Schedulers.parallel()}, a non-blocking thread.
	 */
	private static Mono<Long> sleepAfterDelay() {
		return Mono.delay(Duration.ofMillis(1)).doOnNext(BlockHoundSetupTests::sleep);
	}

	private static void sleep(Object ignored) {
		try {
			Thread.sleep(1);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

}
