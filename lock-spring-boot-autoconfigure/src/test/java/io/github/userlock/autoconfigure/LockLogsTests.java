package io.github.userlock.autoconfigure;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.github.userlock.LockHandle;
import io.github.userlock.LockRegistry;
import io.github.userlock.LockRequest;
import io.github.userlock.UserLock;
import io.github.userlock.memory.InMemoryLockRegistry;
import io.github.userlock.redis.RedisLockRegistry;
import io.github.userlock.support.LoggingLockObserver;
import io.github.userlock.test.FaultProxy;
import io.github.userlock.test.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What operators read: DEBUG for each acquire and release with the time waited or held,
 * WARN naming the key and the method when a lock is lost under a {@code @UserLock}
 * method.
 */
@Timeout(60)
@ExtendWith(OutputCaptureExtension.class)
class LockLogsTests {

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension();

	@Test
	void acquiresAndReleasesAreLoggedAtDebugWithTheTimeWaited(CapturedOutput output) throws Exception {
		Logger logger = (Logger) LoggerFactory.getLogger(LoggingLockObserver.class);
		Level before = logger.getLevel();
		logger.setLevel(Level.DEBUG);
		try (InMemoryLockRegistry registry = new InMemoryLockRegistry()) {
			registry.setObserver(new LoggingLockObserver());
			try (LockHandle handle = registry.acquire(LockRequest.of("user-1").withNamespace("wallet"))) {
				CompletableFuture.runAsync(() -> assertThat(registry.tryAcquire("user-1")).isPresent())
					.get(10, TimeUnit.SECONDS);
				CompletableFuture
					.runAsync(() -> assertThat(registry
						.tryAcquire(LockRequest.of("user-1").withNamespace("wallet").withWaitTime(Duration.ZERO)))
						.isEmpty())
					.get(10, TimeUnit.SECONDS);
			}
		}
		finally {
			logger.setLevel(before);
		}
		assertThat(output).containsPattern("DEBUG .*Lock 'wallet:user-1' acquired after waiting \\d+ ms")
			.containsPattern("DEBUG .*Lock 'user-1' acquired after waiting \\d+ ms")
			.containsPattern("DEBUG .*Lock 'wallet:user-1' not acquired \\(conflict\\) after waiting \\d+ ms")
			.containsPattern("DEBUG .*Lock 'wallet:user-1' released after holding it \\d+ ms \\(fencing token \\d+\\)");
	}

	@Test
	void debugIsSilentAtTheDefaultLevel(CapturedOutput output) {
		try (InMemoryLockRegistry registry = new InMemoryLockRegistry()) {
			registry.setObserver(new LoggingLockObserver());
			registry.acquire("quiet-1", Duration.ZERO).release();
		}
		assertThat(output).doesNotContain("quiet-1");
	}

	@Test
	void lockLostUnderAUserLockMethodIsAWarnNamingKeyAndMethod(CapturedOutput output) throws Exception {
		FaultProxy proxy = redis.newProxy();
		CountDownLatch finish = new CountDownLatch(1);
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class, LockObserverAutoConfiguration.class))
			.withBean(LockRegistry.class,
					() -> RedisLockRegistry.builder(redis.newClient(proxy))
						.defaultLeaseTime(Duration.ofMillis(900))
						.commandTimeout(Duration.ofMillis(200))
						.build())
			.withBean(Worker.class, () -> new Worker(finish))
			.run((context) -> {
				CompletableFuture<String> work = CompletableFuture
					.supplyAsync(() -> context.getBean(Worker.class).work("user-9"));
				await().atMost(Duration.ofSeconds(10))
					.until(() -> redis.server().admin((commands) -> commands.keys("*user-9")).size() == 1);
				proxy.blackhole();
				await().atMost(Duration.ofSeconds(10))
					.until(() -> output.toString().contains("held by " + Worker.class.getName()));
				finish.countDown();
				assertThat(work.get(10, TimeUnit.SECONDS)).isEqualTo("done user-9");
				proxy.pass();
			});
		assertThat(output)
			.containsPattern("WARN .*Lock 'jobs:user-9' held by " + Worker.class.getName().replace("$", "\\$")
					+ "\\.work\\(String\\) was lost while the method ran \\(lease ran out or taken over\\)");
	}

	@Test
	void lockFoundLostByTheReleaseOfAUserLockMethodIsAWarnNamingKeyAndMethod(CapturedOutput output) throws Exception {
		CountDownLatch finish = new CountDownLatch(1);
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class, LockObserverAutoConfiguration.class))
			.withBean(LockRegistry.class, () -> RedisLockRegistry.builder(redis.newClient()).build())
			.withBean(Worker.class, () -> new Worker(finish))
			.run((context) -> {
				CompletableFuture<String> work = CompletableFuture
					.supplyAsync(() -> context.getBean(Worker.class).work("user-10"));
				await().atMost(Duration.ofSeconds(10))
					.until(() -> redis.server().admin((commands) -> commands.keys("*user-10")).size() == 1);
				// another owner takes the key over; the 30 s lease is not renewed before
				// the method ends
				String key = redis.server().admin((commands) -> commands.keys("*user-10")).get(0);
				redis.server()
					.admin((commands) -> commands.set(key, "someone-else-0000000000000000000",
							io.lettuce.core.SetArgs.Builder.px(60_000)));
				finish.countDown();
				assertThat(work.get(10, TimeUnit.SECONDS)).isEqualTo("done user-10");
				await().atMost(Duration.ofSeconds(10))
					.until(() -> output.toString().contains("'jobs:user-10' held by"));
			});
		assertThat(output)
			.containsPattern("WARN .*Lock 'jobs:user-10' held by " + Worker.class.getName().replace("$", "\\$")
					+ "\\.work\\(String\\) was found lost at its release")
			.doesNotContain("someone-else-0000000000000000000");
	}

	static class Worker {

		private final CountDownLatch finish;

		Worker(CountDownLatch finish) {
			this.finish = finish;
		}

		@UserLock(name = "jobs", key = "#uid")
		String work(String uid) {
			try {
				this.finish.await(20, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			return "done " + uid;
		}

	}

}
