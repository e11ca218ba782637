package io.github.userlock.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.github.userlock.test.FaultProxy;
import io.github.userlock.test.RedisServerExtension;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The group commit of the registry's command connection, against a real redis-server:
 * commands sent while an awaited answer is in flight go out together after it, a lone
 * command goes out at once, and an answer that never comes holds nothing back for long.
 */
@Timeout(60)
class CommandPipelineTests {

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension();

	private final List<AutoCloseable> resources = new ArrayList<>();

	@AfterEach
	void close() throws Exception {
		redis.server().resume();
		for (AutoCloseable resource : this.resources) {
			resource.close();
		}
	}

	private StatefulRedisConnection<String, String> connectThrough(FaultProxy proxy) {
		StatefulRedisConnection<String, String> connection = redis.newClient(proxy).connect();
		this.resources.add(connection);
		return connection;
	}

	private FaultProxy proxy() {
		FaultProxy proxy = redis.newProxy();
		this.resources.add(proxy);
		return proxy;
	}

	/** A batching pipeline whose batches never turn stale within a test. */
	private static CommandPipeline batching(StatefulRedisConnection<String, String> connection) {
		return new CommandPipeline(connection, true, TimeUnit.SECONDS.toNanos(30), System::nanoTime, null);
	}

	@Test
	void commandsSentWhileAnAnswerIsAwaitedGoOutTogetherAfterIt() {
		FaultProxy proxy = proxy();
		StatefulRedisConnection<String, String> connection = connectThrough(proxy);
		CommandPipeline pipeline = batching(connection);
		RedisAsyncCommands<String, String> commands = connection.async();
		pipeline.send(() -> commands.set("warm", "1"), true).join();
		long delayNanos = TimeUnit.MILLISECONDS.toNanos(300);
		proxy.delay(Duration.ofNanos(delayNanos));

		long start = System.nanoTime();
		CompletableFuture<String> first = pipeline.send(() -> commands.set("a", "1"), true);
		List<CompletableFuture<String>> behind = new ArrayList<>();
		for (String key : List.of("b", "c", "d")) {
			behind.add(pipeline.send(() -> commands.set(key, "1"), true));
		}
		List<Long> answeredAfter = new ArrayList<>();
		for (CompletableFuture<String> answer : behind) {
			assertThat(answer.join()).isEqualTo("OK");
			answeredAfter.add(System.nanoTime() - start);
		}
		assertThat(first).isCompletedWithValue("OK");

		// written only after the first answer came back: two delayed round trips, each
		// of 2 x 300 ms through the proxy (written at once, they would be answered
		// after at most 3 x 300 ms: the proxy forwards chunks one after another)
		assertThat(answeredAfter).allSatisfy((nanos) -> assertThat(nanos).isGreaterThan(7 * delayNanos / 2));
	}

	@Test
	void aLoneCommandIsWrittenAtOnce() {
		FaultProxy proxy = proxy();
		StatefulRedisConnection<String, String> connection = connectThrough(proxy);
		CommandPipeline pipeline = batching(connection);
		RedisAsyncCommands<String, String> commands = connection.async();
		long delayNanos = TimeUnit.MILLISECONDS.toNanos(200);
		proxy.delay(Duration.ofNanos(delayNanos));
		for (int i = 0; i < 3; i++) {
			long start = System.nanoTime();
			// nothing awaited in flight: out now, one delayed round trip each
			assertThat(pipeline.send(() -> commands.incr("n"), true).join()).isEqualTo(i + 1);
			assertThat(System.nanoTime() - start).isLessThan(3 * delayNanos);
		}
		// a command nobody awaits never holds the next one back
		long start = System.nanoTime();
		CompletableFuture<Long> unawaited = pipeline.send(() -> commands.incr("n"), false);
		assertThat(pipeline.send(() -> commands.incr("n"), true).join()).isEqualTo(5);
		assertThat(unawaited).isCompletedWithValue(4L);
		// held back behind the first it would take 6 x 200 ms; sent at once, at most 4
		// x 200 ms (two chunks through the proxy)
		assertThat(System.nanoTime() - start).isLessThan(5 * delayNanos);
	}

	@Test
	void anAnswerThatDoesNotComeHoldsTheBufferBackOnlyUntilItIsStale() {
		FaultProxy proxy = proxy();
		StatefulRedisConnection<String, String> connection = connectThrough(proxy);
		AtomicLong clock = new AtomicLong();
		long stale = TimeUnit.MILLISECONDS.toNanos(10);
		CommandPipeline pipeline = new CommandPipeline(connection, true, stale, clock::get, null);
		RedisAsyncCommands<String, String> commands = connection.async();
		pipeline.send(() -> commands.set("warm", "1"), true).join();

		redis.server().pause();
		long bytes = proxy.forwardedBytes();
		CompletableFuture<String> unanswered = pipeline.send(() -> commands.set("a", "1"), true);
		await().atMost(Duration.ofSeconds(5)).until(() -> proxy.forwardedBytes() > bytes);
		long afterFirst = proxy.forwardedBytes();
		CompletableFuture<String> buffered = pipeline.send(() -> commands.set("b", "1"), true);

		clock.addAndGet(stale);
		CompletableFuture<String> next = pipeline.send(() -> commands.set("c", "1"), true);
		// the stale batch no longer holds anything back: b and c are written now, while
		// a is still unanswered
		await().atMost(Duration.ofSeconds(5)).until(() -> proxy.forwardedBytes() > afterFirst);
		assertThat(unanswered).isNotDone();

		redis.server().resume();
		assertThat(unanswered.join()).isEqualTo("OK");
		assertThat(buffered.join()).isEqualTo("OK");
		assertThat(next.join()).isEqualTo("OK");
	}

	@Test
	void aBufferedCommandNobodyFlushesIsWrittenByTheStaleTimer() throws Exception {
		FaultProxy proxy = proxy();
		StatefulRedisConnection<String, String> connection = connectThrough(proxy);
		ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
		try {
			CommandPipeline pipeline = new CommandPipeline(connection, true, TimeUnit.MILLISECONDS.toNanos(10),
					System::nanoTime, timer);
			RedisAsyncCommands<String, String> commands = connection.async();
			pipeline.send(() -> commands.set("warm", "1"), true).join();
			redis.server().pause();
			// an awaited command that gets no answer, and one buffered behind it; no
			// further command comes
			CompletableFuture<String> unanswered = pipeline.send(() -> commands.set("a", "1"), true);
			long afterFirst = proxy.forwardedBytes();
			CompletableFuture<String> buffered = pipeline.send(() -> commands.set("b", "1"), false);
			await().atMost(Duration.ofSeconds(2)).until(() -> proxy.forwardedBytes() > afterFirst);
			assertThat(unanswered).isNotDone();
			redis.server().resume();
			assertThat(buffered.get(5, TimeUnit.SECONDS)).isEqualTo("OK");
		}
		finally {
			redis.server().resume();
			timer.shutdownNow();
		}
	}

	@Test
	void theDriverDoesNotWriteABufferedCommandAfterAReconnectButFlushAllDoes() {
		FaultProxy proxy = proxy();
		StatefulRedisConnection<String, String> connection = connectThrough(proxy);
		CommandPipeline pipeline = batching(connection);
		RedisAsyncCommands<String, String> commands = connection.async();
		pipeline.send(() -> commands.set("warm", "1"), true).join();
		proxy.refuse(true);
		proxy.cutAll();
		await().atMost(Duration.ofSeconds(5)).until(() -> !connection.isOpen());
		// written to the driver's buffer while disconnected: its flush does nothing then
		CompletableFuture<String> written = pipeline.send(() -> commands.set("while-down", "1"), true);
		proxy.refuse(false);
		await().atMost(Duration.ofSeconds(30)).until(connection::isOpen);
		// the driver re-sends only what was in flight or queued as disconnected
		await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !written.isDone());
		pipeline.flushAll();
		assertThat(written.join()).isEqualTo("OK");
	}

}
