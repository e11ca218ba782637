package io.github.userlock.test;

import java.util.concurrent.TimeUnit;

import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link RedisServerExtension}: several servers, and the reset before each test.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedisServerExtensionTests {

	@RegisterExtension
	static RedisServerExtension redis = RedisServerExtension.withServers(2);

	private static int firstPort;

	@Test
	void runsIndependentServersOnDistinctPorts() {
		assertThat(redis.servers()).hasSize(2).allMatch(RedisServer::isRunning);
		assertThat(redis.server(0).port()).isNotEqualTo(redis.server(1).port());
		try (StatefulRedisConnection<String, String> connection = redis.newClient(redis.server(1)).connect()) {
			connection.sync().set("only-on-second", "1");
		}
		assertThat(redis.server(0).keyCount()).isZero();
		assertThat(redis.server(1).keyCount()).isEqualTo(1);
	}

	/**
	 * Each test leaves the servers in a bad state; the next one (in order) checks the extension repaired it.
	 */
	@Nested
	@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
	class BeforeEachReset {

		@Test
		@Order(1)
		void leavesDataAndAPausedServer() {
			firstPort = redis.server(0).port();
			try (StatefulRedisConnection<String, String> connection = redis.client().connect()) {
				connection.sync().set("left-over", "1");
			}
			redis.server(0).pause();
			assertThat(redis.server(0).isPaused()).isTrue();
		}

		@Test
		@Order(2)
		void pausedServerIsResumedAndFlushed() {
			assertThat(redis.server(0).isPaused()).isFalse();
			assertThat(redis.server(0).keyCount()).isZero();
			redis.server(0).kill();
			redis.server(1).stop();
		}

		@Test
		@Order(3)
		void stoppedServersAreStartedAgainOnTheirPorts() {
			assertThat(redis.servers()).allMatch(RedisServer::isRunning);
			assertThat(redis.server(0).port()).isEqualTo(firstPort);
			try (StatefulRedisConnection<String, String> connection = redis.client().connect()) {
				assertThat(connection.sync().ping()).isEqualTo("PONG");
			}
		}

	}

}
