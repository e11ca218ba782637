package io.github.userlock.test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link FaultProxy} in front of a real server.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FaultProxyTests {

	@RegisterExtension
	static RedisServerExtension redis = new RedisServerExtension();

	@Test
	void passForwardsCommandsBothWays() {
		FaultProxy proxy = redis.newProxy();
		assertThat(proxy.port()).isNotEqualTo(redis.server().port());
		assertThat(proxy.targetPort()).isEqualTo(redis.server().port());
		try (StatefulRedisConnection<String, String> connection = redis.newClient(proxy).connect()) {
			connection.sync().set("through", "proxy");
			assertThat(connection.sync().get("through")).isEqualTo("proxy");
			assertThat(proxy.openConnections()).isEqualTo(1);
		}
		assertThat(redis.server().keyCount()).isEqualTo(1);
		assertThat(proxy.acceptedConnections()).isEqualTo(1);
		assertThat(proxy.forwardedBytes()).isPositive();
	}

	@Test
	void delayAddsAtLeastTheDelayInEachDirection() {
		FaultProxy proxy = redis.newProxy();
		Duration delay = Duration.ofMillis(300);
		try (StatefulRedisConnection<String, String> connection = redis.newClient(proxy).connect()) {
			assertThat(connection.sync().ping()).isEqualTo("PONG");
			proxy.delay(delay);
			long start = System.nanoTime();
			assertThat(connection.sync().ping()).isEqualTo("PONG");
			Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
			assertThat(elapsed).isGreaterThanOrEqualTo(delay.multipliedBy(2));
			proxy.pass();
			assertThat(connection.sync().ping()).isEqualTo("PONG");
		}
	}

	@Test
	void blackholeMakesCommandsTimeOutAndPassLetsThemThroughAgain() {
		FaultProxy proxy = redis.newProxy();
		RedisClient client = redis.newClient(proxy);
		try (StatefulRedisConnection<String, String> connection = client.connect()) {
			connection.setTimeout(Duration.ofMillis(500));
			assertThat(connection.sync().ping()).isEqualTo("PONG");
			proxy.blackhole();
			assertThatExceptionOfType(RedisCommandTimeoutException.class)
				.isThrownBy(() -> connection.sync().set("k", "v"));
			// the connection is silent, not closed
			assertThat(proxy.openConnections()).isEqualTo(1);
			assertThat(connection.isOpen()).isTrue();
			proxy.pass();
			await().atMost(Duration.ofSeconds(10))
				.untilAsserted(() -> assertThat(connection.sync().get("k")).isEqualTo("v"));
		}
	}

	@Test
	void blackholeAcceptsNewConnectionsButAnswersNothing() throws IOException {
		FaultProxy proxy = redis.newProxy();
		proxy.blackhole();
		try (Socket socket = new Socket("127.0.0.1", proxy.port())) {
			socket.setSoTimeout(500);
			socket.getOutputStream().write("PING\r\n".getBytes());
			assertThatExceptionOfType(java.net.SocketTimeoutException.class)
				.isThrownBy(() -> socket.getInputStream().read());
			proxy.pass();
			socket.setSoTimeout(5000);
			byte[] reply = new byte[7];
			assertThat(socket.getInputStream().readNBytes(reply, 0, 7)).isEqualTo(7);
			assertThat(new String(reply)).isEqualTo("+PONG\r\n");
		}
	}

	@Test
	void cutAllDisconnectsAndLettuceReconnects() {
		FaultProxy proxy = redis.newProxy();
		try (StatefulRedisConnection<String, String> connection = redis.newClient(proxy).connect()) {
			connection.sync().set("k", "v");
			assertThat(proxy.acceptedConnections()).isEqualTo(1);
			proxy.cutAll();
			await().atMost(Duration.ofSeconds(10)).until(() -> proxy.acceptedConnections() >= 2);
			await().atMost(Duration.ofSeconds(10))
				.untilAsserted(() -> assertThat(connection.sync().get("k")).isEqualTo("v"));
			assertThat(proxy.openConnections()).isEqualTo(1);
		}
	}

	@Test
	void refuseRejectsNewConnectionsUntilListeningAgain() {
		FaultProxy proxy = redis.newProxy();
		RedisClient client = redis.newClient(proxy);
		proxy.refuse(true);
		assertThatExceptionOfType(RedisConnectionException.class).isThrownBy(client::connect)
			.withRootCauseInstanceOf(ConnectException.class);
		proxy.refuse(false);
		try (StatefulRedisConnection<String, String> connection = client.connect()) {
			assertThat(connection.sync().ping()).isEqualTo("PONG");
		}
	}

	@Test
	void closeClosesEveryConnectionAndTheListener() {
		FaultProxy proxy = redis.newProxy();
		StatefulRedisConnection<String, String> connection = redis.newClient(proxy).connect();
		connection.setTimeout(Duration.ofMillis(500));
		assertThat(connection.sync().ping()).isEqualTo("PONG");
		proxy.close();
		assertThat(proxy.openConnections()).isZero();
		assertThatExceptionOfType(ConnectException.class).isThrownBy(() -> new Socket("127.0.0.1", proxy.port()));
		assertThatExceptionOfType(RedisException.class).isThrownBy(() -> connection.sync().ping());
		connection.close();
	}

}
