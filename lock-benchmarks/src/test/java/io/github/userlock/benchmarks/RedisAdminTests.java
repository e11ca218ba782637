package io.github.userlock.benchmarks;

import java.util.Map;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The call counting the benchmark relies on, against the real redis-server it starts:
 * client calls and commands run inside scripts are told apart, and the harness's own
 * commands are left out.
 */
@Timeout(30)
class RedisAdminTests {

	private static RedisServerProcess redis;

	private static RedisAdmin admin;

	@BeforeAll
	static void start() throws Exception {
		redis = RedisServerProcess.start();
		admin = new RedisAdmin("127.0.0.1", redis.port());
		admin.nameSelf();
	}

	@AfterAll
	static void stop() throws Exception {
		admin.close();
		redis.close();
	}

	@Test
	void countsAScriptOnceAsAClientCallAndItsCommandsSeparately() throws Exception {
		RedisClient client = RedisClient.create("redis://127.0.0.1:" + redis.port());
		try (StatefulRedisConnection<String, String> connection = client.connect()) {
			RedisCommands<String, String> commands = connection.sync();
			RedisAdmin.Window window = admin.begin();
			commands.eval(
					"redis.call('SET', KEYS[1], 'a'); redis.call('GET', KEYS[1]); return redis.call('PUBLISH', 'c', 'm')",
					ScriptOutputType.INTEGER, "k");
			commands.get("k");
			commands.get("k");
			CallCounts counts = window.end();
			assertThat(counts.clientCalls()).isEqualTo(Map.of("eval", 1L, "get", 2L));
			assertThat(counts.inScripts()).isEqualTo(Map.of("set", 1L, "get", 1L, "publish", 1L));
			assertThat(counts.scriptCalls()).isEqualTo(1);
			assertThat(counts.commandTotal()).isEqualTo(6);
			assertThat(counts.commandStats()).containsEntry("get", 3L).doesNotContainKeys("info", "slowlog");
			assertThat(counts.truncated()).isFalse();
		}
		finally {
			client.shutdown();
		}
	}

	@Test
	void countsCommandsThatSkipTheSlowLogAsClientCalls() throws Exception {
		RedisClient client = RedisClient.create("redis://127.0.0.1:" + redis.port());
		try (StatefulRedisConnection<String, String> connection = client.connect()) {
			RedisCommands<String, String> commands = connection.sync();
			RedisAdmin.Window window = admin.begin();
			commands.multi();
			commands.set("t", "1");
			commands.exec();
			CallCounts counts = window.end();
			assertThat(counts.clientCalls()).containsEntry("multi", 1L)
				.containsEntry("set", 1L)
				.containsEntry("exec", 1L);
			assertThat(counts.inScripts()).isEmpty();
		}
		finally {
			client.shutdown();
		}
	}

	@Test
	void readsTheServersCpuTimeAndTheTimeSpentPerCommand() throws Exception {
		long before = admin.serverCpuMicros();
		RedisClient client = RedisClient.create("redis://127.0.0.1:" + redis.port());
		try (StatefulRedisConnection<String, String> connection = client.connect()) {
			RedisAdmin.Window window = admin.beginStats();
			for (int i = 0; i < 200; i++) {
				connection.sync().eval("return redis.call('SET', KEYS[1], 'v')", ScriptOutputType.STATUS, "c" + i);
			}
			CallCounts counts = window.end();
			assertThat(counts.commandStats()).containsEntry("eval", 200L);
			assertThat(counts.commandMicros()).containsKey("eval");
			assertThat(counts.scriptMicrosPerCall()).isPositive();
		}
		finally {
			client.shutdown();
		}
		assertThat(before).isPositive();
		assertThat(admin.serverCpuMicros()).isGreaterThanOrEqualTo(before);
	}

}
