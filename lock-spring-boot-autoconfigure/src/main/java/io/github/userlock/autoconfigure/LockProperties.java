package io.github.userlock.autoconfigure;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration of the lock, under {@code lock.*}.
 */
@ConfigurationProperties("lock")
public class LockProperties {

	/**
	 * Creates the properties with their defaults.
	 */
	public LockProperties() {
	}

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
	 * LockUnavailableException. It alone bounds the lock's calls, longer or shorter than
	 * spring.data.redis.timeout.
	 */
	private Duration commandTimeout = Duration.ofSeconds(2);

	/**
	 * Longest time a waiting call sleeps between two tries when no release notification
	 * arrives.
	 */
	private Duration recheckInterval = Duration.ofSeconds(1);

	/**
	 * Longest time a thread waiting for Redis's answer spins before it parks (0 turns it
	 * off). It spins only while it is the only thread of the application waiting for an
	 * answer and the machine has more than one processor; the spin ends when the answer
	 * comes, when a second thread starts waiting, or after this time. An answer within
	 * the spin spares the wake-up of a parked thread, which with a nearby Redis can cost
	 * more than the round trip; the price is up to this much CPU per call. When fewer
	 * than a quarter of 64 spins in a row end with the answer (a distant Redis), the next
	 * 1024 lone waits park at once. At most 1 ms.
	 */
	private Duration spinWait = Duration.ofNanos(200_000);

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

	/**
	 * Returns whether the lock is enabled.
	 * @return whether the lock is enabled
	 */
	public boolean isEnabled() {
		return this.enabled;
	}

	/**
	 * Sets whether the lock is enabled.
	 * @param enabled whether the lock is enabled
	 */
	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	/**
	 * Returns where locks are held.
	 * @return where locks are held
	 */
	public Store getStore() {
		return this.store;
	}

	/**
	 * Sets where locks are held.
	 * @param store where locks are held
	 */
	public void setStore(Store store) {
		this.store = store;
	}

	/**
	 * Returns the prefix of every lock key.
	 * @return the prefix of every lock key
	 */
	public String getKeyPrefix() {
		return this.keyPrefix;
	}

	/**
	 * Sets the prefix of every lock key.
	 * @param keyPrefix the prefix of every lock key
	 */
	public void setKeyPrefix(String keyPrefix) {
		this.keyPrefix = keyPrefix;
	}

	/**
	 * Returns the default wait time.
	 * @return the default wait time
	 */
	public Duration getWaitTime() {
		return this.waitTime;
	}

	/**
	 * Sets the default wait time.
	 * @param waitTime the default wait time
	 */
	public void setWaitTime(Duration waitTime) {
		this.waitTime = waitTime;
	}

	/**
	 * Returns the default lease time.
	 * @return the default lease time
	 */
	public Duration getLeaseTime() {
		return this.leaseTime;
	}

	/**
	 * Sets the default lease time.
	 * @param leaseTime the default lease time
	 */
	public void setLeaseTime(Duration leaseTime) {
		this.leaseTime = leaseTime;
	}

	/**
	 * Returns the longest key accepted, in UTF-8 bytes.
	 * @return the longest key accepted, in UTF-8 bytes
	 */
	public int getMaxKeyLength() {
		return this.maxKeyLength;
	}

	/**
	 * Sets the longest key accepted, in UTF-8 bytes.
	 * @param maxKeyLength the longest key accepted, in UTF-8 bytes
	 */
	public void setMaxKeyLength(int maxKeyLength) {
		this.maxKeyLength = maxKeyLength;
	}

	/**
	 * Returns the order of the {@code @UserLock} advice.
	 * @return the order of the {@code @UserLock} advice
	 */
	public int getOrder() {
		return this.order;
	}

	/**
	 * Sets the order of the {@code @UserLock} advice.
	 * @param order the order of the {@code @UserLock} advice
	 */
	public void setOrder(int order) {
		this.order = order;
	}

	/**
	 * Returns the longest time of one Redis call.
	 * @return the longest time of one Redis call
	 */
	public Duration getCommandTimeout() {
		return this.commandTimeout;
	}

	/**
	 * Sets the longest time of one Redis call.
	 * @param commandTimeout the longest time of one Redis call
	 */
	public void setCommandTimeout(Duration commandTimeout) {
		this.commandTimeout = commandTimeout;
	}

	/**
	 * Returns whether a release waits for Redis to confirm it.
	 * @return whether a release waits for Redis to confirm it
	 */
	public boolean isAwaitRelease() {
		return this.awaitRelease;
	}

	/**
	 * Sets whether a release waits for Redis to confirm it.
	 * @param awaitRelease whether a release waits for Redis to confirm it
	 */
	public void setAwaitRelease(boolean awaitRelease) {
		this.awaitRelease = awaitRelease;
	}

	/**
	 * Returns the settings of the Redis store ({@code lock.redis.*}).
	 * @return the Redis store settings
	 */
	public Redis getRedis() {
		return this.redis;
	}

	/**
	 * Returns the longest sleep between two tries of a waiting call.
	 * @return the longest sleep between two tries of a waiting call
	 */
	public Duration getRecheckInterval() {
		return this.recheckInterval;
	}

	/**
	 * Sets the longest sleep between two tries of a waiting call.
	 * @param recheckInterval the longest sleep between two tries of a waiting call
	 */
	public void setRecheckInterval(Duration recheckInterval) {
		this.recheckInterval = recheckInterval;
	}

	/**
	 * Returns the longest spin of a thread waiting for Redis's answer.
	 * @return the longest spin of a thread waiting for Redis's answer
	 */
	public Duration getSpinWait() {
		return this.spinWait;
	}

	/**
	 * Sets the longest spin of a thread waiting for Redis's answer.
	 * @param spinWait the longest spin of a thread waiting for Redis's answer
	 */
	public void setSpinWait(Duration spinWait) {
		this.spinWait = spinWait;
	}

	/** Settings of the Redis store, under {@code lock.redis.*}. */
	public static class Redis {

		/** Settings with their defaults. */
		public Redis() {
		}

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

		/**
		 * Returns how many replicas must acknowledge an acquisition.
		 * @return the replicas that must acknowledge, 0 for none
		 */
		public int getMinReplicas() {
			return this.minReplicas;
		}

		/**
		 * Sets how many replicas must acknowledge an acquisition.
		 * @param minReplicas the replicas that must acknowledge, 0 for none
		 */
		public void setMinReplicas(int minReplicas) {
			this.minReplicas = minReplicas;
		}

		/**
		 * Returns how long an acquire waits for the replicas' acknowledgements.
		 * @return the longest wait for the acknowledgements
		 */
		public Duration getReplicaTimeout() {
			return this.replicaTimeout;
		}

		/**
		 * Sets how long an acquire waits for the replicas' acknowledgements.
		 * @param replicaTimeout the longest wait for the acknowledgements
		 */
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
