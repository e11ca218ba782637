package io.github.userlock.benchmarks;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The floor rows ({@code lettuce-floor}, {@code socket-floor}) are real (if bare) locks
 * against the real redis-server: one holder per key across instances, the key free once
 * released, a wait that gives up at its deadline.
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

	@ParameterizedTest
	@EnumSource(names = { "LETTUCE_FLOOR", "SOCKET_FLOOR" })
	void holdsOneKeyForOneInstanceAtATime(Library floor) throws Exception {
		ClientSettings settings = new ClientSettings("127.0.0.1", redis.port(), Duration.ofSeconds(30), false,
				Map.of());
		try (LockClient first = floor.open(settings); LockClient second = floor.open(settings)) {
			String key = floor.id() + "-key";
			LockClient.Held held = first.tryAcquire(key);
			assertThat(held).isNotNull();
			assertThat(second.tryAcquire(key)).isNull();
			assertThat(first.tryAcquire(key)).isNull();
			assertThat(second.acquire(key, Duration.ofMillis(50))).isNull();
			assertThat(second.tryAcquire(key + "-other")).isNotNull();
			held.release();
			LockClient.Held next = second.acquire(key, Duration.ofSeconds(5));
			assertThat(next).isNotNull();
			// a release by a former holder does not free the key of the next one
			held.release();
			assertThat(first.tryAcquire(key)).isNull();
			next.release();
			assertThat(first.tryAcquire(key)).isNotNull();
		}
	}

}
