package io.github.userlock.benchmarks;

import java.time.Duration;
import java.util.Map;

/**
 * How every library is configured, so that leases and renewal periods are comparable.
 *
 * @param host the redis-server host
 * @param port the redis-server port
 * @param lease the lease each library keeps in Redis while a lock is held (Redisson's
 * watchdog timeout, Spring Integration's {@code expireAfter}, our
 * {@code lock.lease-time})
 * @param renewal whether Spring Integration gets a renewal {@code TaskScheduler} (only
 * the long-holds scenario needs one; Redisson's watchdog and our renewal are always on)
 * @param lockProperties extra {@code lock.*} properties for the rows of ours that run the
 * starter ({@code --lock-property})
 */
record ClientSettings(String host, int port, Duration lease, boolean renewal, Map<String, String> lockProperties) {

	String uri() {
		return "redis://" + this.host + ":" + this.port;
	}

	ClientSettings withRenewal() {
		return new ClientSettings(this.host, this.port, this.lease, true, this.lockProperties);
	}

}
