package io.github.userlock.redis;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.RedisClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

/**
 * The spin before a wait parks ({@link AnswerSpin}): when it spins, what ends it, and the
 * bounds of {@code lock.spin-wait}. Timing only bounds the tests; every spin here is
 * given far longer than it may take, so that what ends it is the event under test.
 */
@Timeout(30)
class AnswerSpinTests {

	private static final long LONG_SPIN = TimeUnit.SECONDS.toNanos(20);

	@Test
	void aLoneSpinEndsWhenTheAnswerComes() throws Exception {
		AnswerSpin spin = new AnswerSpin(true);
		CompletableFuture<String> answer = new CompletableFuture<>();
		CompletableFuture<Long> spun = CompletableFuture.supplyAsync(() -> {
			long start = System.nanoTime();
			spin.begin(answer, LONG_SPIN);
			return System.nanoTime() - start;
		});
		await().atMost(Duration.ofSeconds(5)).until(() -> spin.waiters() == 1);
		assertThat(spun).as("still spinning while no answer came").isNotDone();
		answer.complete("OK");
		assertThat(spun.get(5, TimeUnit.SECONDS)).as("ended by the answer, long before the spin's end")
			.isLessThan(LONG_SPIN / 2);
		spin.done();
		assertThat(spin.waiters()).isZero();
	}

	@Test
	void aSecondWaiterEndsTheSpinAndDoesNotSpinItself() throws Exception {
		AnswerSpin spin = new AnswerSpin(true);
		CompletableFuture<String> first = new CompletableFuture<>();
		CompletableFuture<Void> spinning = CompletableFuture.runAsync(() -> spin.begin(first, LONG_SPIN));
		await().atMost(Duration.ofSeconds(5)).until(() -> spin.waiters() == 1);
		assertThat(spinning).isNotDone();
		long start = System.nanoTime();
		spin.begin(new CompletableFuture<>(), LONG_SPIN);
		assertThat(System.nanoTime() - start).as("the second waiter went on at once").isLessThan(LONG_SPIN / 2);
		spinning.get(5, TimeUnit.SECONDS);
		assertThat(first).as("the first stopped spinning without its answer").isNotDone();
		assertThat(spin.waiters()).isEqualTo(2);
		spin.done();
		spin.done();
		assertThat(spin.waiters()).isZero();
	}

	@Test
	void aSpinWithoutAnAnswerEndsAfterItsTime() {
		AnswerSpin spin = new AnswerSpin(true);
		long spinNanos = TimeUnit.MILLISECONDS.toNanos(20);
		long start = System.nanoTime();
		spin.begin(new CompletableFuture<>(), spinNanos);
		assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(spinNanos);
		spin.done();
	}

	@Test
	void aWindowOfSpinsRarelyAnsweredPausesTheSpinAndItSpinsAgainAfterThePause() throws Exception {
		AnswerSpin spin = new AnswerSpin(true);
		for (int i = 0; i < AnswerSpin.WINDOW; i++) {
			assertThat(spin.spinning()).as("judged only once the window is full").isTrue();
			spinUnanswered(spin);
		}
		assertThat(spin.spinning()).as("paused after a window without answers").isFalse();
		long start = System.nanoTime();
		for (int i = 0; i < AnswerSpin.PAUSE; i++) {
			spin.begin(new CompletableFuture<>(), LONG_SPIN);
			spin.done();
		}
		assertThat(System.nanoTime() - start).as("paused lone waits park at once").isLessThan(LONG_SPIN / 2);
		assertThat(spin.spinning()).as("spinning again after the pause").isTrue();
		CompletableFuture<String> answer = new CompletableFuture<>();
		CompletableFuture<Void> trial = CompletableFuture.runAsync(() -> spin.begin(answer, LONG_SPIN));
		await().atMost(Duration.ofSeconds(5)).until(() -> spin.waiters() == 1);
		assertThat(trial).as("the first wait after the pause spins until its answer").isNotDone();
		answer.complete("OK");
		trial.get(5, TimeUnit.SECONDS);
		spin.done();
	}

	@Test
	void aQuarterOfTheWindowAnsweredKeepsItSpinningOneFewerPausesIt() {
		AnswerSpin spin = new AnswerSpin(true);
		spinWindow(spin, AnswerSpin.WINDOW / 4);
		assertThat(spin.spinning()).as("a quarter answered").isTrue();
		spinWindow(spin, AnswerSpin.WINDOW / 4 - 1);
		assertThat(spin.spinning()).as("one fewer than a quarter answered").isFalse();
	}

	/** One window of lone spins, the first {@code answered} of them answered at once. */
	private static void spinWindow(AnswerSpin spin, int answered) {
		for (int i = 0; i < AnswerSpin.WINDOW; i++) {
			if (i < answered) {
				spin.begin(CompletableFuture.completedFuture("OK"), LONG_SPIN);
				spin.done();
			}
			else {
				spinUnanswered(spin);
			}
		}
	}

	/** A lone spin that runs out its (short) time without an answer. */
	private static void spinUnanswered(AnswerSpin spin) {
		spin.begin(new CompletableFuture<>(), TimeUnit.MICROSECONDS.toNanos(100));
		spin.done();
	}

	@Test
	void noSpinOnASingleProcessorOrWhenTurnedOff() {
		AnswerSpin single = new AnswerSpin(false);
		long start = System.nanoTime();
		single.begin(new CompletableFuture<>(), LONG_SPIN);
		AnswerSpin off = new AnswerSpin(true);
		off.begin(new CompletableFuture<>(), 0);
		assertThat(System.nanoTime() - start).isLessThan(LONG_SPIN / 2);
		assertThat(single.waiters()).isEqualTo(1);
		assertThat(off.waiters()).isEqualTo(1);
	}

	@Test
	void theBuilderTakesZeroToOneMillisecondAndNamesThePropertyOtherwise() {
		RedisClient client = RedisClient.create();
		try {
			RedisLockRegistry.Builder builder = RedisLockRegistry.builder(client);
			builder.spinWait(Duration.ZERO).spinWait(Duration.ofMillis(1));
			assertThatIllegalArgumentException().isThrownBy(() -> builder.spinWait(Duration.ofNanos(-1)))
				.withMessageContaining("lock.spin-wait")
				.withMessageContaining("PT-0.000000001S");
			assertThatIllegalArgumentException().isThrownBy(() -> builder.spinWait(Duration.ofMillis(2)))
				.withMessageContaining("lock.spin-wait must be between 0 and 1000 µs");
		}
		finally {
			client.shutdown();
		}
	}

}
