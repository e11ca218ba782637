package io.github.userlock.benchmarks;

import java.util.concurrent.TimeUnit;

import org.redisson.Redisson;
import org.redisson.api.RLock;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * Redisson {@code RLock} in watchdog mode, as its users get it: a {@code RedissonClient}
 * with its default config (single server, default pool), {@code tryLock(wait)} and
 * {@code tryLock()} without a lease time, so that Redisson renews the lease every
 * {@code lockWatchdogTimeout / 3}. The only setting made is the watchdog timeout, set to
 * the common lease ({@code --lease}, 30 s by default: Redisson's own default).
 */
final class RedissonLockClient extends JdkLockClient {

	private final RedissonClient redisson;

	RedissonLockClient(ClientSettings settings) {
		Config config = new Config();
		config.setLockWatchdogTimeout(settings.lease().toMillis());
		config.useSingleServer().setAddress(settings.uri());
		this.redisson = Redisson.create(config);
	}

	@Override
	RLock lock(String key) {
		return this.redisson.getLock(key);
	}

	@Override
	public void close() {
		this.redisson.shutdown(0, 2, TimeUnit.SECONDS);
	}

}
