package io.github.userlock.redis;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import io.github.userlock.LockRequest;
import io.github.userlock.LockUnavailableException;
import io.github.userlock.support.AbstractLockRegistry;
import io.github.userlock.support.LockGrant;
import io.github.userlock.support.LockKeys;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.RedisClusterClient;
import org.jspecify.annotations.Nullable;

/**
 * A {@link io.github.userlock.LockRegistry} whose locks are held in Redis, so that they
 * exclude across every process that shares the Redis (standalone, Sentinel or Cluster).
 *
 * <p>
 * A lock is one string key {@code <prefix>[<namespace>:]{<bucket>}:<key>} whose value is
 * a random 128-bit owner token, with a lease as its expiry. Acquire, release and renew
 * are one Lua script each (one round trip, EVALSHA; the scripts are loaded on every
 * (re)connect). While a lock is held a watchdog ({@link LeaseWatchdog}) renews its lease
 * every third of it, batching all held locks into few calls; a lock found no longer ours,
 * or not renewed before its lease ran out, is reported lost. Waiters are woken through
 * one shared Pub/Sub subscription per registry, by releases that saw a waiter, and
 * otherwise re-check when the lease would run out or after the recheck interval. Every
 * Redis call is bounded by the command timeout ({@link RedisCalls}).
 *
 * <p>
 * By default a release returns only once Redis confirmed it, so the key is free for every
 * instance when {@code release()} returns. An acquire the caller gave up on (its timeout,
 * the driver's timeout, an interrupt) is followed on the same connection by the
 * compare-and-delete of its owner token, so it can never keep the key locked once it
 * runs.
 *
 * <p>
 * The registry opens its own two connections from the given Lettuce client (commands and
 * Pub/Sub); it does not shut the client down. {@link #close()} closes the connections and
 * stops the watchdog.
 *
 * <p>
 * Its parts, each in a file of its own: the key names ({@code RedisKeys}), owner tokens
 * ({@code OwnerTokens}), the wake-up subscription ({@code WakeUpChannels}), the acquire
 * script and the undo of an acquire given up on ({@code RedisAcquisitions}), the release
 * script ({@code RedisReleases}), renewals ({@code LeaseWatchdog}), connections
 * ({@code RedisConnections}, {@code CommandPipeline}) and bounded script calls
 * ({@code RedisCalls}); the local queue, hand-off and handles are
 * {@link AbstractLockRegistry}'s.
 */
public final class RedisLockRegistry extends AbstractLockRegistry {

	static final RedisScript ACQUIRE = RedisScript.load("acquire");

	static final RedisScript RELEASE = RedisScript.load("release");

	private static final RedisScript RENEW = RedisScript.load("renew");

	private static final RedisScript PEEK = RedisScript.load("peek");

	/**
	 * The longest {@link Builder#spinWait(Duration)}: a spin is for answers microseconds
	 * away.
	 */
	static final Duration MAX_SPIN_WAIT = Duration.ofMillis(1);

	private final RedisKeys keys;

	private final WakeUpChannels wakeUps;

	private final long timeoutNanos;

	private final ScheduledExecutorService scheduler;

	private final RedisCalls calls;

	private final LeaseWatchdog watchdog;

	private final RedisAcquisitions acquisitions;

	private final RedisReleases releases;

	private volatile boolean closed;

	private final boolean awaitRelease;

	private RedisLockRegistry(Builder builder) {
		super(builder.defaultWaitTime, builder.defaultLeaseTime, builder.maxKeyLength);
		this.keys = new RedisKeys(builder.keyPrefix);
		this.timeoutNanos = builder.commandTimeout.toNanos();
		this.awaitRelease = builder.awaitRelease;
		this.scheduler = Executors.newSingleThreadScheduledExecutor((runnable) -> {
			Thread thread = new Thread(runnable, "user-lock-watchdog");
			thread.setDaemon(true);
			return thread;
		});
		this.wakeUps = new WakeUpChannels(builder.keyPrefix, this::signal, this::signalAll, this.scheduler,
				this.timeoutNanos);
		this.calls = new RedisCalls(builder.client, builder.commandTimeout, builder.spinWait, this.wakeUps,
				this.scheduler, List.of(ACQUIRE, RELEASE, RENEW, PEEK));
		this.watchdog = new LeaseWatchdog(this.scheduler, this.calls.isCluster(), this.timeoutNanos, this::renew,
				this::leaseLost, this::observer);
		this.acquisitions = new RedisAcquisitions(this.calls, this.keys, this.watchdog, replicaAcknowledgement(builder),
				this.timeoutNanos, builder.recheckInterval.toNanos(), this::schedule, this::isClosed,
				this.wakeUps::channel);
		this.releases = new RedisReleases(this.calls, this.watchdog, this.awaitRelease, this.timeoutNanos,
				this::schedule, this::lostBeforeRelease, this.wakeUps::channel);
	}

	private static @Nullable ReplicaAcknowledgement replicaAcknowledgement(Builder builder) {
		if (builder.minReplicas == 0) {
			return null;
		}
		if (builder.client instanceof RedisClusterClient) {
			throw new IllegalArgumentException("lock.redis.min-replicas=" + builder.minReplicas
					+ " is not supported on Redis Cluster (WAIT would not reach the node that holds the key); set it to 0");
		}
		if (builder.replicaTimeout.compareTo(builder.commandTimeout) >= 0) {
			throw new IllegalArgumentException("lock.redis.replica-timeout (" + builder.replicaTimeout
					+ ") must be shorter than lock.command-timeout (" + builder.commandTimeout
					+ "): the acquire and its WAIT share one command timeout");
		}
		return new ReplicaAcknowledgement(builder.minReplicas, builder.replicaTimeout);
	}

	/**
	 * A builder for a registry on {@code client} (a Lettuce {@link RedisClient} or
	 * {@link RedisClusterClient}).
	 * @param client the Lettuce client the registry connects with
	 * @return a new builder
	 */
	public static Builder builder(AbstractRedisClient client) {
		return new Builder(client);
	}

	/**
	 * The prefix of every key and channel this registry uses.
	 * @return the key prefix
	 */
	public String getKeyPrefix() {
		return this.keys.prefix();
	}

	/**
	 * Whether {@link #close()} was called; a closed registry throws
	 * {@link LockUnavailableException}.
	 * @return {@code true} once the registry is closed
	 */
	public boolean isClosed() {
		return this.closed;
	}

	/**
	 * The global Pub/Sub channel on which releases that had waiters are announced. On a
	 * Redis Cluster whose masters all run Redis 7.0 or later (and allow INFO, SSUBSCRIBE
	 * and SPUBLISH), releases use sharded Pub/Sub instead: one channel per bucket,
	 * {@code <prefix>{<bucket>}released}, in the lock key's slot; this channel is still
	 * subscribed there, for releases of registries that use it.
	 * @return the global channel name
	 */
	public String getChannel() {
		return this.wakeUps.name();
	}

	/**
	 * Whether {@code release()} waits for Redis to confirm the release (see
	 * {@link Builder#awaitRelease(boolean)}).
	 * @return {@code true} when releases are awaited
	 */
	public boolean isAwaitRelease() {
		return this.awaitRelease;
	}

	/**
	 * Shares "held" answers between no-wait calls of this instance only in the opt-in
	 * mode where releases are not awaited: every release of a key that someone tried
	 * publishes on the wake-up channel, which ends the sharing. With releases awaited
	 * (the default) every no-wait call asks Redis, unless a call of this instance for the
	 * same key is in flight or holds it.
	 */
	@Override
	protected boolean sharesHeldAnswers() {
		return !this.awaitRelease;
	}

	/**
	 * Redis's view of {@code key} in {@code namespace}, whoever holds it, without taking
	 * it: its remaining lease, or empty when nobody holds it. A key without an expiry
	 * (not written by this library) reads as a zero lease.
	 * @param namespace the namespace, empty for none
	 * @param key the key
	 * @return the remaining lease, or empty when the key is not held
	 * @throws LockUnavailableException when Redis does not answer within the command
	 * timeout
	 * @throws IllegalArgumentException when the key or namespace is invalid
	 */
	public Optional<Duration> leaseInStore(String namespace, String key) {
		LockRequest.of(key).withNamespace(namespace);
		LockKeys.validate(key, getMaxKeyBytes());
		long deadline = System.nanoTime() + this.timeoutNanos;
		Long ttl = this.calls.await(this.calls.call(PEEK, ScriptOutputType.INTEGER, key, deadline, true, null,
				new String[] { storeKey(namespace, key) }), deadline, key, true);
		return (ttl == -2) ? Optional.empty() : Optional.of(Duration.ofMillis(Math.max(0, ttl)));
	}

	/**
	 * How many held locks the watchdog renews now.
	 * @return the number of locks under renewal
	 */
	public int heldLockCount() {
		return this.watchdog.size();
	}

	/** How many renewal script calls the watchdog sent since start. */
	long renewalCalls() {
		return this.watchdog.renewalCalls();
	}

	/**
	 * Stops the watchdog and closes the connections, after waiting (up to the command
	 * timeout) for releases still in flight. Locks still held are not released: their
	 * leases run out.
	 */
	@Override
	public void close() {
		if (this.closed) {
			return;
		}
		this.releases.awaitInFlight();
		this.closed = true;
		this.watchdog.stop();
		this.scheduler.shutdownNow();
		this.calls.close();
		super.close();
	}

	@Override
	protected String storeKey(String namespace, String key) {
		return this.keys.storeKey(namespace, key);
	}

	// ---- acquire / release: RedisAcquisitions, RedisReleases ----

	@Override
	protected Attempt attempt(String key, String storeKey, Duration lease) {
		return attemptOf(this.acquisitions.attempt(key, storeKey, lease));
	}

	@Override
	protected CompletableFuture<Attempt> attemptAsync(String key, String storeKey, Duration lease) {
		return this.acquisitions.attemptAsync(key, storeKey, lease).thenApply(RedisLockRegistry::attemptOf);
	}

	private static Attempt attemptOf(RedisAcquisitions.Acquired acquired) {
		return (acquired.grant() != null) ? Attempt.granted(acquired.grant())
				: Attempt.heldFor(acquired.retryAfterNanos());
	}

	@Override
	protected void releaseInStore(LockGrant grant, Duration keepFor, ReleaseDone whenDone) {
		this.releases.release(grant, keepFor, done(whenDone));
	}

	@Override
	protected void releaseInStoreAsync(LockGrant grant, Duration keepFor, ReleaseDone whenDone) {
		this.releases.releaseAsync(grant, keepFor, done(whenDone));
	}

	private static RedisReleases.Done done(ReleaseDone whenDone) {
		return new RedisReleases.Done() {

			@Override
			public void released(boolean wokeOtherProcesses) {
				whenDone.released(wokeOtherProcesses);
			}

			@Override
			public void sent() {
				whenDone.sent();
			}

		};
	}

	/**
	 * Hands a held lock to a waiting thread of this process without a round trip: same
	 * owner token and lease in Redis, the next of the tokens the acquire reserved. Only
	 * while the lease is fresh, for the same lease time, and at most
	 * {@value RedisAcquisitions#HAND_OFFS} times in a row.
	 */
	@Override
	protected @Nullable LockGrant handOff(LockGrant grant, Duration lease) {
		RedisGrant current = (RedisGrant) grant;
		RedisLease redisLease = current.lease;
		long now = System.nanoTime();
		if (current.handOffsLeft <= 0 || redisLease.leaseMillis != lease.toMillis()
				|| redisLease.validUntilNanos - now < redisLease.leaseNanos() / 2) {
			return null;
		}
		RedisGrant next = new RedisGrant(current.key(), redisLease, current.fencingToken() + 1, now,
				current.handOffsLeft - 1);
		redisLease.holder(next);
		if (redisLease.isLost()) {
			// the watchdog found it lost while the holder changed: tell the new holder
			leaseLost(redisLease, "Redis no longer has it under our owner token (expired or taken over)");
		}
		return next;
	}

	/** Reports the grant that holds {@code lease} now as lost. */
	private void leaseLost(RedisLease lease, String reason) {
		lease.markLost();
		lost(lease.holder(), reason);
	}

	private CompletableFuture<List<Object>> renew(String[] keys, String[] args, long sentAt) {
		return this.calls.call(RENEW, ScriptOutputType.MULTI, null, sentAt + this.timeoutNanos, false, null, keys,
				args);
	}

	/** Builds a {@link RedisLockRegistry}; every setting has a default. */
	public static final class Builder {

		private final AbstractRedisClient client;

		private String keyPrefix = "user-lock:";

		private Duration defaultWaitTime = Duration.ofSeconds(3);

		private Duration defaultLeaseTime = Duration.ofSeconds(30);

		private int maxKeyLength = 512;

		private Duration commandTimeout = Duration.ofSeconds(2);

		private Duration recheckInterval = Duration.ofSeconds(1);

		private Duration spinWait = Duration.ofNanos(200_000);

		private boolean awaitRelease = true;

		private int minReplicas;

		private Duration replicaTimeout = Duration.ofMillis(500);

		private Builder(AbstractRedisClient client) {
			this.client = Objects.requireNonNull(client, "client");
		}

		/**
		 * Prefix of every key and channel (default {@code user-lock:}); must not contain
		 * braces.
		 * @param keyPrefix the prefix; non-empty, without braces
		 * @return this builder
		 */
		public Builder keyPrefix(String keyPrefix) {
			Objects.requireNonNull(keyPrefix, "keyPrefix");
			if (keyPrefix.isEmpty() || keyPrefix.indexOf('{') >= 0 || keyPrefix.indexOf('}') >= 0) {
				throw new IllegalArgumentException("Lock key prefix must be non-empty and contain no '{' or '}' "
						+ "(they would change the Redis Cluster hash slot), was '" + keyPrefix + "'");
			}
			this.keyPrefix = keyPrefix;
			return this;
		}

		/**
		 * Wait time of requests that name none (default 3 s).
		 * @param defaultWaitTime the default wait time
		 * @return this builder
		 */
		public Builder defaultWaitTime(Duration defaultWaitTime) {
			this.defaultWaitTime = Objects.requireNonNull(defaultWaitTime, "defaultWaitTime");
			return this;
		}

		/**
		 * Lease of requests that name none (default 30 s).
		 * @param defaultLeaseTime the default lease
		 * @return this builder
		 */
		public Builder defaultLeaseTime(Duration defaultLeaseTime) {
			this.defaultLeaseTime = Objects.requireNonNull(defaultLeaseTime, "defaultLeaseTime");
			return this;
		}

		/**
		 * Longest key accepted, in UTF-8 bytes (default 512).
		 * @param maxKeyLength the longest key, in UTF-8 bytes
		 * @return this builder
		 */
		public Builder maxKeyLength(int maxKeyLength) {
			this.maxKeyLength = maxKeyLength;
			return this;
		}

		/**
		 * The most any single Redis call of the lock may take before it fails (default 2
		 * s).
		 * @param commandTimeout the timeout of one Redis call; at least 1 ms
		 * @return this builder
		 */
		public Builder commandTimeout(Duration commandTimeout) {
			Objects.requireNonNull(commandTimeout, "commandTimeout");
			if (commandTimeout.toMillis() < 1) {
				throw new IllegalArgumentException("Lock command timeout must be at least 1 ms, was " + commandTimeout);
			}
			this.commandTimeout = commandTimeout;
			return this;
		}

		/**
		 * The longest a waiter sleeps between two tries when no wake-up message comes
		 * (default 1 s): the fallback for a lost message. Releases with a waiter publish
		 * a wake-up and a lease that runs out is waited for exactly, so this rarely
		 * matters.
		 * @param recheckInterval the longest sleep between two tries; at least 1 ms
		 * @return this builder
		 */
		public Builder recheckInterval(Duration recheckInterval) {
			Objects.requireNonNull(recheckInterval, "recheckInterval");
			if (recheckInterval.toMillis() < 1) {
				throw new IllegalArgumentException(
						"Lock recheck interval must be at least 1 ms, was " + recheckInterval);
			}
			this.recheckInterval = recheckInterval;
			return this;
		}

		/**
		 * How long a thread waiting for Redis's answer spins before it parks (default 200
		 * µs; {@link Duration#ZERO} turns it off). It spins only while it is the only
		 * thread of the process waiting for an answer and the machine has more than one
		 * processor; the spin ends when the answer comes, when a second thread starts
		 * waiting, or after this time. An answer that comes within the spin spares the
		 * wake-up of a parked thread, which can cost more than a round trip to a nearby
		 * Redis; the price is up to this much CPU per call. When fewer than a quarter of
		 * 64 spins in a row end with the answer (a distant Redis), the next 1024 lone
		 * waits park at once. Outcomes and timeouts do not change.
		 * @param spinWait the longest spin per wait; zero or more, at most 1 ms
		 * @return this builder
		 */
		public Builder spinWait(Duration spinWait) {
			Objects.requireNonNull(spinWait, "spinWait");
			if (spinWait.isNegative() || spinWait.compareTo(MAX_SPIN_WAIT) > 0) {
				throw new IllegalArgumentException("lock.spin-wait must be between 0 and "
						+ MAX_SPIN_WAIT.toNanos() / 1000 + " µs, was " + spinWait);
			}
			this.spinWait = spinWait;
			return this;
		}

		/**
		 * Whether {@code release()} waits for Redis to confirm the release (default
		 * {@code true}): when it returns, the key is free for every instance. With
		 * {@code false} (an opt-in that saves a round trip per call) the release is sent
		 * on the registry's connection before {@code release()} returns and its outcome
		 * is logged when it arrives; later acquires from this process run after it on the
		 * same connection and waiters of every instance are woken when it lands, but
		 * another instance that tries without waiting right after {@code release()}
		 * returned may still find the key held, and no-wait calls of this instance share
		 * a recent "held by another instance" answer until that key's release is
		 * announced. The outcome of a release is never thrown, awaited or not.
		 * @param awaitRelease whether {@code release()} waits for Redis's confirmation
		 * @return this builder
		 */
		public Builder awaitRelease(boolean awaitRelease) {
			this.awaitRelease = awaitRelease;
			return this;
		}

		/**
		 * How many replicas must acknowledge an acquisition (default 0: none asked). With
		 * more, {@code WAIT <minReplicas> <replicaTimeout>} is written right behind every
		 * acquire, in the same write; an acquisition fewer replicas acknowledged within
		 * the replica timeout is released again and fails with
		 * {@link LockUnavailableException}. It narrows, not closes, the window in which a
		 * failover loses a lock just taken (a lagging replica can still be promoted);
		 * fencing tokens are the defence that holds. Not supported on Redis Cluster.
		 * @param minReplicas the number of replicas that must acknowledge; 0 or more
		 * @return this builder
		 */
		public Builder minReplicas(int minReplicas) {
			if (minReplicas < 0) {
				throw new IllegalArgumentException("lock.redis.min-replicas must be 0 or more, was " + minReplicas);
			}
			this.minReplicas = minReplicas;
			return this;
		}

		/**
		 * How long an acquire waits for the replicas of {@link #minReplicas(int)} to
		 * acknowledge it (default 500 ms); shorter than the command timeout. The command
		 * connection is blocked meanwhile, so with replicas down every acquire of this
		 * process pays it.
		 * @param replicaTimeout the longest wait for the replicas; at least 1 ms
		 * @return this builder
		 */
		public Builder replicaTimeout(Duration replicaTimeout) {
			Objects.requireNonNull(replicaTimeout, "replicaTimeout");
			if (replicaTimeout.toMillis() < 1) {
				throw new IllegalArgumentException(
						"lock.redis.replica-timeout must be at least 1 ms, was " + replicaTimeout);
			}
			this.replicaTimeout = replicaTimeout;
			return this;
		}

		/**
		 * A registry with this builder's settings, validated before anything is started.
		 * @return the new registry
		 * @throws IllegalArgumentException when the replica settings are invalid
		 */
		public RedisLockRegistry build() {
			// validated before anything is started
			replicaAcknowledgement(this);
			return new RedisLockRegistry(this);
		}

	}

}
