package io.github.userlock.benchmarks;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.jspecify.annotations.Nullable;

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
 * else: no fencing token, no wake-up channel, no watchdog, no local bookkeeping. A wait
 * for a held key retries every 100 µs. Not judged and not among the default rows.
 */
final class FloorLockClient implements LockClient {

	static final String ACQUIRE = "return redis.call('set', KEYS[1], ARGV[1], 'nx', 'px', ARGV[2])";

	static final String RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then "
			+ "return redis.call('del', KEYS[1]) end return 0";

	private static final long RETRY_NANOS = TimeUnit.MICROSECONDS.toNanos(100);

	private final ConfigurableApplicationContext context;

	private final StatefulRedisConnection<String, String> connection;

	private final RedisCommands<String, String> commands;

	private final String acquireSha;

	private final String releaseSha;

	private final String leaseMillis;

	private final String instance = UUID.randomUUID().toString();

	private final AtomicLong sequence = new AtomicLong();

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
	public @Nullable Held acquire(String key, Duration waitTime) throws InterruptedException {
		long deadline = System.nanoTime() + waitTime.toNanos();
		for (;;) {
			Held held = tryAcquire(key);
			if (held != null) {
				return held;
			}
			if (System.nanoTime() - deadline >= 0) {
				return null;
			}
			LockSupport.parkNanos(RETRY_NANOS);
			if (Thread.interrupted()) {
				throw new InterruptedException();
			}
		}
	}

	@Override
	public @Nullable Held tryAcquire(String key) {
		String token = this.instance + ':' + this.sequence.incrementAndGet();
		String answer = this.commands.evalsha(this.acquireSha, ScriptOutputType.STATUS, new String[] { key }, token,
				this.leaseMillis);
		if (answer == null) {
			return null;
		}
		return new Held() {

			@Override
			public void release() {
				FloorLockClient.this.commands.evalsha(FloorLockClient.this.releaseSha, ScriptOutputType.INTEGER,
						new String[] { key }, token);
			}

			@Override
			public long token() {
				return -1;
			}

		};
	}

	@Override
	public void close() {
		this.connection.close();
		this.context.close();
	}

}
