package io.github.userlock.test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link RedisServer} against the real binary.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedisServerTests {

	@RegisterExtension
	static RedisServerExtension redis = new RedisServerExtension();

	@Test
	void startedServerAnswersCommandsOnItsPort() {
		RedisServer server = redis.server();
		assertThat(server.isRunning()).isTrue();
		assertThat(server.uri()).isEqualTo("redis://127.0.0.1:" + server.port());
		try (StatefulRedisConnection<String, String> connection = redis.client().connect()) {
			connection.sync().set("k1", "v1");
			connection.sync().set("k2", "v2");
			assertThat(connection.sync().get("k1")).isEqualTo("v1");
		}
		assertThat(server.keyCount()).isEqualTo(2);
		assertThat(server.infoMap("server")).containsEntry("redis_version", "7.0.15")
			.containsEntry("tcp_port", String.valueOf(server.port()));
	}

	@Test
	void flushAllDeletesEveryKey() {
		try (StatefulRedisConnection<String, String> connection = redis.client().connect()) {
			connection.sync().set("a", "1");
			connection.sync().set("b", "2");
		}
		assertThat(redis.server().keyCount()).isEqualTo(2);
		redis.server().flushAll();
		assertThat(redis.server().keyCount()).isZero();
	}

	@Test
	void commandStatsCountCallsSinceTheTestStarted() {
		try (StatefulRedisConnection<String, String> connection = redis.client().connect()) {
			connection.sync().set("a", "1");
			connection.sync().set("a", "2");
			connection.sync().set("a", "3");
			connection.sync().get("a");
		}
		assertThat(redis.server().commandStats()).containsEntry("set", 3L).containsEntry("get", 1L);
		assertThat(redis.server().commandCalls("SET")).isEqualTo(3);
		assertThat(redis.server().commandCalls("evalsha")).isZero();
	}

	@Test
	void restartKeepsThePortAndAnOpenLettuceConnectionReconnects() {
		RedisServer server = redis.server();
		int port = server.port();
		long pid = server.pid();
		try (StatefulRedisConnection<String, String> connection = redis.newClient().connect()) {
			connection.sync().set("before", "restart");
			server.restart();
			assertThat(server.port()).isEqualTo(port);
			assertThat(server.pid()).isNotEqualTo(pid);
			await().atMost(Duration.ofSeconds(15))
				.untilAsserted(() -> assertThat(connection.sync().ping()).isEqualTo("PONG"));
			// no persistence: the restarted server is empty
			assertThat(connection.sync().get("before")).isNull();
			connection.sync().set("after", "restart");
		}
		assertThat(server.keyCount()).isEqualTo(1);
	}

	@Test
	void killEndsTheProcessAtOnceAndStartBringsItBackOnTheSamePort() {
		RedisServer server = redis.server();
		int port = server.port();
		server.kill();
		assertThat(server.isRunning()).isFalse();
		RedisClient client = redis.newClient(RedisURI.create("redis://127.0.0.1:" + port));
		assertThatExceptionOfType(RedisConnectionException.class).isThrownBy(client::connect);
		server.start();
		assertThat(server.port()).isEqualTo(port);
		try (StatefulRedisConnection<String, String> connection = client.connect()) {
			assertThat(connection.sync().ping()).isEqualTo("PONG");
		}
	}

	@Test
	void pauseMakesCommandsTimeOutAndResumeAnswersThem() {
		RedisServer server = redis.server();
		try (StatefulRedisConnection<String, String> connection = redis.newClient().connect()) {
			connection.setTimeout(Duration.ofMillis(500));
			assertThat(connection.sync().ping()).isEqualTo("PONG");
			server.pause();
			assertThat(server.isPaused()).isTrue();
			assertThat(server.isRunning()).isTrue();
			assertThatExceptionOfType(RedisCommandTimeoutException.class)
				.isThrownBy(() -> connection.sync().set("k", "v"));
			server.resume();
			assertThat(server.isPaused()).isFalse();
			await().atMost(Duration.ofSeconds(10))
				.untilAsserted(() -> assertThat(connection.sync().get("k")).isEqualTo("v"));
		}
	}

	@Test
	void stopOfAPausedServerStillEndsIt() {
		RedisServer server = redis.server();
		server.pause();
		server.stop();
		assertThat(server.isRunning()).isFalse();
		assertThat(server.isPaused()).isFalse();
	}

	@Test
	void requirePasswordRejectsClientsWithoutIt() {
		try (RedisServer server = RedisServer.builder().password("secret").build().start()) {
			RedisClient anonymous = redis.newClient(RedisURI.create(server.uri()));
			assertThatThrownBy(() -> {
				try (StatefulRedisConnection<String, String> connection = anonymous.connect()) {
					connection.sync().set("k", "v");
				}
			})
				// the server's NOAUTH, or (now and then) Lettuce failing its handshake on
				// the connection the server refused
				.satisfies((ex) -> assertThat(messages(ex)).anyMatch((message) -> message.contains("NOAUTH")
						|| message.contains("RedisHandshakeHandler not registered")));
			assertThat(server.keyCount()).as("nothing written without the password").isZero();
			RedisClient authenticated = redis.newClient(server.redisUri());
			try (StatefulRedisConnection<String, String> connection = authenticated.connect()) {
				connection.sync().set("k", "v");
			}
			assertThat(server.keyCount()).isEqualTo(1);
		}
	}

	@Test
	void aclUserRestrictedToThePrefixGetsNoPermOnOtherKeys() {
		try (RedisServer server = RedisServer.builder()
			.aclUser("app on >app-secret ~user-lock:* +@all")
			.build()
			.start()) {
			RedisURI uri = RedisURI.builder()
				.withHost(server.host())
				.withPort(server.port())
				.withAuthentication("app", "app-secret")
				.build();
			try (StatefulRedisConnection<String, String> connection = redis.newClient(uri).connect()) {
				assertThat(connection.sync().set("user-lock:x", "1")).isEqualTo("OK");
				assertThatExceptionOfType(RedisCommandExecutionException.class)
					.isThrownBy(() -> connection.sync().set("other:x", "1"))
					.withMessageStartingWith("NOPERM");
			}
			assertThat(server.keyCount()).isEqualTo(1);
		}
	}

	@Test
	void startFailureReportsTheServerOutput() {
		RedisServer server = RedisServer.create("--no-such-option", "1");
		assertThatExceptionOfType(IllegalStateException.class).isThrownBy(server::start)
			.withMessageContaining("no-such-option");
		assertThat(server.isRunning()).isFalse();
	}

	private static List<String> messages(Throwable ex) {
		List<String> messages = new ArrayList<>();
		for (Throwable t = ex; t != null; t = t.getCause()) {
			messages.add(String.valueOf(t.getMessage()));
		}
		return messages;
	}

}
