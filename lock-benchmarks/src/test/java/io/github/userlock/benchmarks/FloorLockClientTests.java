package io.github.userlock.benchmarks;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code lettuce-floor} row is a real (if bare) lock against the real redis-server:
 * one holder per key across instances, the key free once released, a wait that gives up
 * at its deadline.
 */
@Timeout(60)
class FloorLockClientTests {

	private static RedisServerProcess redis;

	@BeforeAll
	static void start() throws Exception {
		redis = RedisServerProcess.start();
	}

	@AfterAll
	static void stop() throws Exception {
		redis.close();
	}

	@Test
	void holdsOneKeyForOneInstanceAtATime() throws Exception {
		ClientSettings settings = new ClientSettings("127.0.0.1", redis.port(), Duration.ofSeconds(30), false,
				Map.of());
		try (LockClient first = Library.LETTUCE_FLOOR.open(settings);
				LockClient second = Library.LETTUCE_FLOOR.open(settings)) {
			LockClient.Held held = first.tryAcquire("floor-key");
			assertThat(held).isNotNull();
			assertThat(second.tryAcquire("floor-key")).isNull();
			assertThat(first.tryAcquire("floor-key")).isNull();
			assertThat(second.acquire("floor-key", Duration.ofMillis(50))).isNull();
			assertThat(second.tryAcquire("other-key")).isNotNull();
			held.release();
			LockClient.Held next = second.acquire("floor-key", Duration.ofSeconds(5));
			assertThat(next).isNotNull();
			// a release by a former holder does not free the key of the next one
			held.release();
			assertThat(first.tryAcquire("floor-key")).isNull();
			next.release();
			assertThat(first.tryAcquire("floor-key")).isNotNull();
		}
	}

}
