package io.github.userlock.autoconfigure;

import java.time.Duration;
import java.util.List;

import io.github.userlock.LockHandle;
import io.github.userlock.LockRegistry;
import io.github.userlock.redis.RedisLockRegistry;
import io.github.userlock.test.BootRedis;
import io.github.userlock.test.Failures;
import io.github.userlock.test.RedisServerExtension;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.jedis.JedisConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application on Jedis ({@code spring.data.redis.client-type=jedis}): the lock builds,
 * owns and closes a Lettuce client of its own from the same Spring Boot connection
 * details, against a real password-protected redis-server.
 */
@Timeout(60)
class LockJedisApplicationTests {

	private static final String PASSWORD = "jedis-app-secret";

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension().withPassword(PASSWORD);

	private ApplicationContextRunner jedisApplication() {
		return new ApplicationContextRunner().withConfiguration(BootRedis.with(LockAutoConfiguration.class))
			.withPropertyValues("spring.data.redis.client-type=jedis", "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.server().port(), "spring.data.redis.password=" + PASSWORD,
					"spring.data.redis.client-name=jedis-app");
	}

	@Test
	void locksThroughAnOwnLettuceClientWithTheApplicationsSettingsAndClosesIt() {
		LockRedisClient[] own = new LockRedisClient[1];
		jedisApplication().run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(context.getBean(RedisConnectionFactory.class)).isInstanceOf(JedisConnectionFactory.class);
			own[0] = context.getBean(LockRedisClient.class);
			assertThat(own[0].client()).isInstanceOf(RedisClient.class);
			RedisURI uri = own[0].uris().get(0);
			assertThat(uri.getHost()).isEqualTo("127.0.0.1");
			assertThat(uri.getPort()).isEqualTo(redis.server().port());
			assertThat(uri.getClientName()).isEqualTo("jedis-app");

			// the application's own Redis access still goes through Jedis
			context.getBean(StringRedisTemplate.class).opsForValue().set("app-data", "written by jedis");

			RedisLockRegistry registry = context.getBean(RedisLockRegistry.class);
			try (LockHandle handle = registry.acquire("jedis-user", Duration.ofSeconds(1))) {
				assertThat(handle.isHeld()).isTrue();
				List<String> keys = redis.server().admin((commands) -> commands.keys("user-lock:*jedis-user"));
				assertThat(keys).hasSize(1);
				assertThat(java.util.concurrent.CompletableFuture.supplyAsync(() -> registry.tryAcquire("jedis-user"))
					.join()).as("a no-wait try from another thread while held").isEmpty();
			}
			assertThat(redis.server().<String>admin((commands) -> commands.get("app-data")))
				.isEqualTo("written by jedis");
			// the lock's connections are Lettuce's, named like the application's
			assertThat(redis.server().<String>admin((commands) -> commands.clientList())).contains("name=jedis-app");
		});
		// closed with the context: its event loops are shut down
		assertThat(own[0].client().getResources().eventExecutorGroup().isShutdown()).isTrue();
	}

	@Test
	void aWrongPasswordFailsTheLockCallNamingTheServersAnswer() {
		jedisApplication().withPropertyValues("spring.data.redis.password=wrong", "lock.command-timeout=1s")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				LockRegistry registry = context.getBean(LockRegistry.class);
				org.assertj.core.api.Assertions
					.assertThatExceptionOfType(io.github.userlock.LockUnavailableException.class)
					.isThrownBy(() -> registry.tryAcquire("u"))
					.withMessageStartingWith("Cannot connect to Redis for lock 'u': ")
					// when the server's answer reached the client, the message names it;
					// Lettuce 7 sometimes reports only the channel its handshake closed
					// (it closes first and fails the handshake after, racing
					// channelInactive)
					.satisfies((ex) -> {
						if (Failures.messages(ex).contains("WRONGPASS")) {
							assertThat(ex.getMessage()).contains("WRONGPASS");
						}
						else {
							assertThat(ex.getMessage()).endsWith("Connection closed prematurely");
						}
					});
			});
	}

	@Test
	void aLockRegistryOfTheApplicationLeavesTheJedisApplicationAlone() {
		LockRegistry own = new io.github.userlock.memory.InMemoryLockRegistry(Duration.ZERO, Duration.ofSeconds(1), 64);
		jedisApplication().withBean(LockRegistry.class, () -> own).run((context) -> {
			assertThat(context).hasNotFailed().doesNotHaveBean(LockRedisClient.class);
			assertThat(context.getBean(LockRegistry.class)).isSameAs(own);
		});
	}

	@Test
	void sentinelSettingsAreTheApplicationsSentinelSettings() {
		// Lettuce connects lazily: the details are read and the client built without a
		// Sentinel running
		new ApplicationContextRunner().withConfiguration(BootRedis.with())
			.withPropertyValues("spring.data.redis.sentinel.master=mymaster",
					"spring.data.redis.sentinel.nodes=127.0.0.1:26379,127.0.0.1:26380",
					"spring.data.redis.sentinel.password=sentinel-secret", "spring.data.redis.password=data-secret",
					"spring.data.redis.database=3")
			.run((context) -> {
				BootRedisConnection connection = BootRedisConnection.find(context.getBeanFactory(),
						getClass().getClassLoader());
				assertThat(connection).isNotNull();
				assertThat(connection.sentinel()).isTrue();
				assertThat(connection.sentinelMaster()).isEqualTo("mymaster");
				assertThat(connection.sentinelPassword()).isEqualTo("sentinel-secret");
				assertThat(connection.password()).isEqualTo("data-secret");
				assertThat(connection.database()).isEqualTo(3);
				try (LockRedisClient client = LockRedisClient.create(connection, false, null, null)) {
					RedisURI uri = client.uris().get(0);
					assertThat(uri.getSentinelMasterId()).isEqualTo("mymaster");
					assertThat(uri.getDatabase()).isEqualTo(3);
					assertThat(uri.getSentinels()).extracting(RedisURI::getPort).containsExactly(26379, 26380);
					assertThat(uri.getSentinels()).allSatisfy((sentinel) -> assertThat(
							sentinel.getCredentialsProvider().resolveCredentials().block().getPassword())
						.containsExactly("sentinel-secret".toCharArray()));
					assertThat(uri.getCredentialsProvider().resolveCredentials().block().getPassword())
						.containsExactly("data-secret".toCharArray());
				}
			});
	}

	@Test
	void clusterSettingsGiveAClusterClientOnTheSeedNodes() {
		new ApplicationContextRunner().withConfiguration(BootRedis.with())
			.withPropertyValues("spring.data.redis.cluster.nodes=127.0.0.1:7000,127.0.0.1:7001",
					"spring.data.redis.username=app", "spring.data.redis.password=secret")
			.run((context) -> {
				BootRedisConnection connection = BootRedisConnection.find(context.getBeanFactory(),
						getClass().getClassLoader());
				assertThat(connection).isNotNull();
				try (LockRedisClient client = LockRedisClient.create(connection, true, null, Duration.ofSeconds(3))) {
					assertThat(client.client()).isInstanceOf(RedisClusterClient.class);
					assertThat(client.uris()).extracting(RedisURI::getPort).containsExactly(7000, 7001);
					assertThat(client.uris()).allSatisfy((uri) -> {
						assertThat(uri.isSsl()).isTrue();
						assertThat(uri.getCredentialsProvider().resolveCredentials().block().getUsername())
							.isEqualTo("app");
					});
				}
			});
	}

	@Test
	void jedisWithoutBootsConnectionDetailsFailsStartUpSayingWhatToDo() {
		// a Jedis factory of the application's own, Boot's Redis auto-configuration
		// absent
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class))
			.withBean(RedisConnectionFactory.class, JedisConnectionFactory::new)
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.isInstanceOf(IllegalStateException.class)
				.hasMessageContaining("the RedisConnectionFactory is a " + JedisConnectionFactory.class.getName())
				.hasMessageContaining("no Spring Boot Redis connection details"));
	}

}
