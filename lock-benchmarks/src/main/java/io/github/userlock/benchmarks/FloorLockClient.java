package io.github.userlock.benchmarks;

import java.util.Map;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * The {@code lettuce-floor} row: not a lock anyone runs, but the least an awaited-release
 * lock on Boot's Lettuce client can do per cycle, to show how far the many-users target
 * is from what the client allows on this machine. A Boot context without our starter; one
 * connection of its own on the {@code RedisClient} of Boot's
 * {@link LettuceConnectionFactory} (as our starter opens one), shared by the instance's
 * threads through Lettuce's synchronous API; per cycle one script call that sets the key
 * if absent ({@code SET NX PX}) and one compare-and-delete, each awaited, and nothing
 * else: no fencing token, no wake-up channel, no watchdog, no local bookkeeping (see
 * {@link BareLockClient}). Not judged and not among the default rows.
 */
final class FloorLockClient extends BareLockClient {

	private final ConfigurableApplicationContext context;

	private final StatefulRedisConnection<String, String> connection;

	private final RedisCommands<String, String> commands;

	private final String acquireSha;

	private final String releaseSha;

	private final String leaseMillis;

	FloorLockClient(ClientSettings settings) {
		this.context = BootInstance.start(settings,
				Map.of("spring.autoconfigure.exclude", SpringIntegrationLockClient.EXCLUDE_OUR_STARTER));
		LettuceConnectionFactory factory = this.context.getBean(LettuceConnectionFactory.class);
		if (!(factory.getNativeClient() instanceof RedisClient client)) {
			this.context.close();
			throw new IllegalStateException(
					"lettuce-floor needs a standalone RedisClient, Boot built " + factory.getNativeClient());
		}
		this.connection = client.connect();
		this.commands = this.connection.sync();
		this.acquireSha = this.commands.scriptLoad(ACQUIRE);
		this.releaseSha = this.commands.scriptLoad(RELEASE);
		this.leaseMillis = Long.toString(settings.lease().toMillis());
	}

	@Override
	boolean setIfAbsent(String key, String token) {
		return this.commands.evalsha(this.acquireSha, ScriptOutputType.STATUS, new String[] { key }, token,
				this.leaseMillis) != null;
	}

	@Override
	void deleteIfOwner(String key, String token) {
		this.commands.evalsha(this.releaseSha, ScriptOutputType.INTEGER, new String[] { key }, token);
	}

	@Override
	public void close() {
		this.connection.close();
		this.context.close();
	}

}
