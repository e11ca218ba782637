package io.github.userlock.autoconfigure;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration of the lock, under {@code lock.*}.
 */
@ConfigurationProperties("lock")
public class LockProperties {

	/**
	 * Default order of the advice: just inside the lowest precedence, so it wraps
	 * {@code @Transactional}.
	 */
	public static final int DEFAULT_ORDER = 2147483637;

	/**
	 * Whether to enable the lock: the lock registry, the @UserLock advice and the mapping
	 * of lock exceptions to HTTP responses.
	 */
	private boolean enabled = true;

	/**
	 * Where locks are held: 'redis' (shared by every instance of the application) or
	 * 'memory' (this JVM only, for development and tests).
	 */
	private Store store = Store.REDIS;

	/**
	 * Prefix of every lock key (and the release channel) in Redis.
	 */
	private String keyPrefix = "user-lock:";

	/**
	 * How long a call waits for a lock held by someone else before failing with
	 * LockConflictException; 0 to fail at once.
	 */
	private Duration waitTime = Duration.ofSeconds(3);

	/**
	 * How long Redis keeps a lock after its holder stopped renewing it (a crash); renewed
	 * every third of it while the method runs.
	 */
	private Duration leaseTime = Duration.ofSeconds(30);

	/**
	 * Longest lock key accepted, in UTF-8 bytes.
	 */
	private int maxKeyLength = 512;

	/**
	 * Order of the @UserLock advice; the default (Ordered.LOWEST_PRECEDENCE - 10) runs it
	 * outside of @Transactional, so a lock is released after the commit.
	 */
	private int order = DEFAULT_ORDER;

	/**
	 * Longest time any single Redis call of the lock may take before the call fails with
	 * LockUnavailableException.
	 */
	private Duration commandTimeout = Duration.ofSeconds(2);

	/**
	 * Longest time a waiting call sleeps between two tries when no release notification
	 * arrives.
	 */
	private Duration recheckInterval = Duration.ofSeconds(1);

	/**
	 * Whether a release waits for Redis to confirm it, so that the key is free for every
	 * instance when the method returns (the default). false is an opt-in that saves a
	 * round trip per call and gives up that promise: the release is sent before the
	 * method returns and ahead of any later acquire from this instance, but a no-wait
	 * call on another instance right after it may still get LockConflictException (409),
	 * and no-wait calls of one instance share a recent "held elsewhere" answer until the
	 * release is announced.
	 */
	private boolean awaitRelease = true;

	/**
	 * Redis-specific settings.
	 */
	private final Redis redis = new Redis();

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public Store getStore() {
		return this.store;
	}

	public void setStore(Store store) {
		this.store = store;
	}

	public String getKeyPrefix() {
		return this.keyPrefix;
	}

	public void setKeyPrefix(String keyPrefix) {
		this.keyPrefix = keyPrefix;
	}

	public Duration getWaitTime() {
		return this.waitTime;
	}

	public void setWaitTime(Duration waitTime) {
		this.waitTime = waitTime;
	}

	public Duration getLeaseTime() {
		return this.leaseTime;
	}

	public void setLeaseTime(Duration leaseTime) {
		this.leaseTime = leaseTime;
	}

	public int getMaxKeyLength() {
		return this.maxKeyLength;
	}

	public void setMaxKeyLength(int maxKeyLength) {
		this.maxKeyLength = maxKeyLength;
	}

	public int getOrder() {
		return this.order;
	}

	public void setOrder(int order) {
		this.order = order;
	}

	public Duration getCommandTimeout() {
		return this.commandTimeout;
	}

	public void setCommandTimeout(Duration commandTimeout) {
		this.commandTimeout = commandTimeout;
	}

	public boolean isAwaitRelease() {
		return this.awaitRelease;
	}

	public void setAwaitRelease(boolean awaitRelease) {
		this.awaitRelease = awaitRelease;
	}

	public Redis getRedis() {
		return this.redis;
	}

	public Duration getRecheckInterval() {
		return this.recheckInterval;
	}

	public void setRecheckInterval(Duration recheckInterval) {
		this.recheckInterval = recheckInterval;
	}

	/** Settings of the Redis store, under {@code lock.redis.*}. */
	public static class Redis {

		/**
		 * How many replicas must acknowledge an acquisition (WAIT, sent right behind the
		 * acquire); with fewer within replica-timeout it is released again and fails with
		 * LockUnavailableException. 0 (the default) asks none. Narrows, does not close,
		 * the window in which a failover loses a lock just taken. Not supported on Redis
		 * Cluster.
		 */
		private int minReplicas;

		/**
		 * How long an acquire waits for min-replicas acknowledgements; shorter than
		 * command-timeout.
		 */
		private Duration replicaTimeout = Duration.ofMillis(500);

		public int getMinReplicas() {
			return this.minReplicas;
		}

		public void setMinReplicas(int minReplicas) {
			this.minReplicas = minReplicas;
		}

		public Duration getReplicaTimeout() {
			return this.replicaTimeout;
		}

		public void setReplicaTimeout(Duration replicaTimeout) {
			this.replicaTimeout = replicaTimeout;
		}

	}

	/** Where locks are held. */
	public enum Store {

		/**
		 * In Redis, through the application's Lettuce connection factory: shared by every
		 * instance.
		 */
		REDIS,

		/** In this JVM only: for development and tests of a single instance. */
		MEMORY

	}

}
