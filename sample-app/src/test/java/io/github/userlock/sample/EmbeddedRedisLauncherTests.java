package io.github.userlock.sample;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;

import io.github.userlock.test.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The embedded redis-server: started when nothing listens on the configured port, shared
 * by a second instance, stopped with the instance that started it; not started when a
 * Redis is already there.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EmbeddedRedisLauncherTests {

	@RegisterExtension
	static RedisServerExtension redis = new RedisServerExtension();

	@Test
	void startsAnEmbeddedRedisWhenNothingListensSharesItWithASecondInstanceAndStopsItWithTheFirst() throws IOException {
		int port = freePort();
		assertThat(EmbeddedRedisLauncher.listening(port)).isFalse();
		try (SampleInstance first = SampleInstance.start("server.port=0", "spring.data.redis.port=" + port)) {
			assertThat(EmbeddedRedisLauncher.listening(port)).isTrue();
			assertThat(first.grant("heidi", "10").statusCode()).isEqualTo(200);
			try (SampleInstance second = SampleInstance.start("server.port=0", "spring.data.redis.port=" + port)) {
				// the second one did not start its own: it sees the first one's data
				assertThat(second.balance("heidi")).isEqualTo(10);
			}
			assertThat(EmbeddedRedisLauncher.listening(port)).as("still served by the first instance").isTrue();
			assertThat(first.balance("heidi")).isEqualTo(10);
		}
		assertThat(EmbeddedRedisLauncher.listening(port)).as("stopped with the first instance").isFalse();
	}

	@Test
	void usesTheRedisAlreadyListening() {
		try (SampleInstance app = SampleInstance.start("server.port=0",
				"spring.data.redis.port=" + redis.server().port())) {
			assertThat(app.grant("ivan", "3").statusCode()).isEqualTo(200);
			assertThat(redis.server().<String>admin((c) -> c.get("points:ivan"))).isEqualTo("3");
		}
		assertThat(redis.server().isRunning()).isTrue();
	}

	@Test
	void startsNothingWhenTurnedOff() throws IOException {
		int port = freePort();
		try (SampleInstance app = SampleInstance.start("server.port=0", "spring.data.redis.port=" + port,
				"sample.embedded-redis=false")) {
			assertThat(EmbeddedRedisLauncher.listening(port)).isFalse();
			// it runs, but without a Redis every request is refused
			assertThat(app.get("judy").statusCode()).isEqualTo(503);
			assertThat(app.grant("judy", "1").statusCode()).isEqualTo(503);
		}
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

}
