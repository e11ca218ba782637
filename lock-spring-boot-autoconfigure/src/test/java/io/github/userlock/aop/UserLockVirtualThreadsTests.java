package io.github.userlock.aop;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.github.userlock.UserLock;
import io.github.userlock.autoconfigure.LockAutoConfiguration;
import io.github.userlock.test.BootRedis;
import io.github.userlock.test.RedisServerExtension;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.task.TaskExecutionAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.task.AsyncTaskExecutor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code spring.threads.virtual.enabled=true}: 2,000 virtual threads (Boot's application
 * task executor of two application contexts sharing one Redis) contend for 10 hot keys.
 * All finish, no two holders of a key overlap, the JVM's platform threads stay few, and a
 * JFR recording shows no {@code jdk.VirtualThreadPinned} event with a frame of the
 * starter. Runs on JDK 21+ (in {@code .ci/run}'s JDK 25 run); the build targets Java 17,
 * so virtual threads are only reached through Boot and reflection.
 */
@Timeout(180)
class UserLockVirtualThreadsTests {

	private static final int CALLS = 2_000;

	private static final int KEYS = 10;

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension();

	@Test
	void twoThousandVirtualThreadsOnTenHotKeysAcrossTwoContextsFinishWithoutOverlapOrPinning() throws Exception {
		assumeTrue(Runtime.version().feature() >= 21, "virtual threads need JDK 21 or later; this JVM is "
				+ Runtime.version() + " (the JDK 25 run of .ci/run executes this test)");
		Method isVirtual = Thread.class.getMethod("isVirtual");
		HotKeys hotKeys = new HotKeys(isVirtual);
		ApplicationContextRunner runner = new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(TaskExecutionAutoConfiguration.class))
			.withConfiguration(BootRedis.with(LockAutoConfiguration.class))
			.withPropertyValues("spring.threads.virtual.enabled=true", "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.server().port(), "lock.wait-time=60s")
			.withBean(HotKeys.class, () -> hotKeys);
		Path jfr = Files.createTempFile("virtual-threads", ".jfr");
		ThreadMXBean threads = ManagementFactory.getThreadMXBean();
		AtomicInteger mostPlatformThreads = new AtomicInteger();
		ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
		try (Recording recording = new Recording()) {
			recording.enable("jdk.VirtualThreadPinned").withThreshold(Duration.ZERO).withStackTrace();
			runner.run((first) -> runner.run((second) -> {
				// warm-up call per context: connections open before the platform count is
				// taken
				lockedCall(first, "warm-up").get(30, TimeUnit.SECONDS);
				lockedCall(second, "warm-up").get(30, TimeUnit.SECONDS);
				int platformBefore = threads.getThreadCount();
				sampler.scheduleAtFixedRate(
						() -> mostPlatformThreads.accumulateAndGet(threads.getThreadCount(), Math::max), 0, 5,
						TimeUnit.MILLISECONDS);
				recording.start();
				List<CompletableFuture<Void>> calls = new ArrayList<>();
				for (int i = 0; i < CALLS; i++) {
					calls.add(lockedCall((i % 2 == 0) ? first : second, "hot-" + (i % KEYS)));
				}
				CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
				recording.stop();
				sampler.shutdownNow();
				assertThat(hotKeys.calls.get()).isEqualTo(CALLS + 2);
				assertThat(hotKeys.onPlatformThread.get()).as("calls that did not run on a virtual thread").isZero();
				assertThat(hotKeys.overlaps.get()).as("calls that found another holder of their key inside").isZero();
				for (int k = 0; k < KEYS; k++) {
					assertThat(hotKeys.counters.get("hot-" + k).get()).isEqualTo(CALLS / KEYS);
				}
				System.out.println("VIRTUAL THREADS calls=" + hotKeys.calls.get() + " platformThreadsBefore="
						+ platformBefore + " mostPlatformThreadsDuring=" + mostPlatformThreads.get());
				// 2,000 threads ran; the platform threads did not grow with them
				assertThat(mostPlatformThreads.get()).as("platform threads (before: " + platformBefore + ")")
					.isLessThan(platformBefore + 64);
			}));
			recording.dump(jfr);
		}
		finally {
			sampler.shutdownNow();
		}
		List<RecordedEvent> pinned = RecordingFile.readAllEvents(jfr);
		List<String> inStarter = new ArrayList<>();
		for (RecordedEvent event : pinned) {
			if (event.getStackTrace() == null) {
				continue;
			}
			for (RecordedFrame frame : event.getStackTrace().getFrames()) {
				String type = frame.getMethod().getType().getName();
				if (type.startsWith("io.github.userlock.")
						&& !type.startsWith("io.github.userlock.aop.UserLockVirtual")) {
					inStarter.add(type + "." + frame.getMethod().getName() + " (" + event.getDuration() + ")");
					break;
				}
			}
		}
		Files.deleteIfExists(jfr);
		System.out.println("VIRTUAL THREADS jdk.VirtualThreadPinned events=" + pinned.size()
				+ ", in the starter's frames=" + inStarter.size());
		assertThat(inStarter).as("jdk.VirtualThreadPinned events in the starter's frames").isEmpty();
	}

	private static CompletableFuture<Void> lockedCall(ConfigurableApplicationContext context, String key) {
		AsyncTaskExecutor executor = context.getBean("applicationTaskExecutor", AsyncTaskExecutor.class);
		HotKeys locked = context.getBean(HotKeys.class);
		return executor.submitCompletable(() -> {
			locked.increment(key);
			return null;
		});
	}

	/**
	 * A non-atomic read-modify-write per key, which counts anyone else found inside; one
	 * instance shared by both contexts (each proxies it with its own lock registry).
	 */
	public static class HotKeys {

		final Map<String, AtomicLong> counters = new ConcurrentHashMap<>();

		final Map<String, AtomicInteger> inside = new ConcurrentHashMap<>();

		final AtomicInteger overlaps = new AtomicInteger();

		final AtomicInteger calls = new AtomicInteger();

		final AtomicInteger onPlatformThread = new AtomicInteger();

		private final Method isVirtual;

		HotKeys(Method isVirtual) {
			this.isVirtual = isVirtual;
		}

		@UserLock(key = "#key")
		public void increment(String key) throws Exception {
			this.calls.incrementAndGet();
			if (!(boolean) this.isVirtual.invoke(Thread.currentThread())) {
				this.onPlatformThread.incrementAndGet();
			}
			AtomicInteger here = this.inside.computeIfAbsent(key, (k) -> new AtomicInteger());
			if (here.incrementAndGet() != 1) {
				this.overlaps.incrementAndGet();
			}
			AtomicLong counter = this.counters.computeIfAbsent(key, (k) -> new AtomicLong());
			long value = counter.get();
			Thread.yield();
			counter.set(value + 1);
			here.decrementAndGet();
		}

	}

}
