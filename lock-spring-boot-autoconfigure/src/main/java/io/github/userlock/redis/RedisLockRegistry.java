package io.github.userlock.redis;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import io.github.userlock.LockInterruptedException;
import io.github.userlock.LockRequest;
import io.github.userlock.LockUnavailableException;
import io.github.userlock.support.AbstractLockRegistry;
import io.github.userlock.support.LockGrant;
import io.github.userlock.support.LockKeys;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 */
public final class RedisLockRegistry extends AbstractLockRegistry {

	private static final Logger logger = LoggerFactory.getLogger(RedisLockRegistry.class);

	/**
	 * Fencing counters and slot buckets: a constant number of extra keys, however many
	 * keys are locked.
	 */
	static final int BUCKETS = 1024;

	private static final int OWNER_LENGTH = 32;

	/**
	 * Fencing tokens reserved by each acquisition for hand-offs to local waiters, and so
	 * the most hand-offs before the lock goes back through Redis, where other instances
	 * get their turn.
	 */
	static final int HAND_OFFS = 16;

	private static final RedisScript ACQUIRE = RedisScript.load("acquire");

	private static final RedisScript RELEASE = RedisScript.load("release");

	private static final RedisScript RENEW = RedisScript.load("renew");

	private static final RedisScript PEEK = RedisScript.load("peek");

	/**
	 * Owner-token generators: a few DRBGs shared by all threads (picked by thread id), so
	 * that a virtual thread per call does not seed a generator of its own, and tokens are
	 * unguessable without the global lock and the read of /dev/urandom that the platform
	 * default (NativePRNG) takes on every call.
	 */
	private static final SecureRandom[] RANDOMS = newRandoms(
			Integer.highestOneBit(Math.max(1, Runtime.getRuntime().availableProcessors()) * 2 - 1) * 2);

	private final String prefix;

	private final String channel;

	private final long timeoutNanos;

	private final long recheckNanos;

	private final ScheduledExecutorService scheduler;

	private final RedisCalls calls;

	private final LeaseWatchdog watchdog;

	private volatile boolean closed;

	private final boolean awaitRelease;

	/** The opt-in WAIT behind every acquire ({@code lock.redis.min-replicas}). */
	private final @Nullable ReplicaAcknowledgement replicaAck;

	/**
	 * Releases sent and not answered yet (release not awaited); {@link #close()} waits
	 * until there are none.
	 */
	private final AtomicInteger releasesInFlight = new AtomicInteger();

	private final ReentrantLock releasesLock = new ReentrantLock();

	private final Condition noReleaseInFlight = this.releasesLock.newCondition();

	private RedisLockRegistry(Builder builder) {
		super(builder.defaultWaitTime, builder.defaultLeaseTime, builder.maxKeyLength);
		this.prefix = builder.keyPrefix;
		this.channel = builder.keyPrefix + "released";
		this.timeoutNanos = builder.commandTimeout.toNanos();
		this.recheckNanos = builder.recheckInterval.toNanos();
		this.awaitRelease = builder.awaitRelease;
		this.replicaAck = replicaAcknowledgement(builder);
		this.scheduler = Executors.newSingleThreadScheduledExecutor((runnable) -> {
			Thread thread = new Thread(runnable, "user-lock-watchdog");
			thread.setDaemon(true);
			return thread;
		});
		this.calls = new RedisCalls(builder.client, builder.commandTimeout, this.channel, new WakeUpListener(),
				this.scheduler, List.of(ACQUIRE, RELEASE, RENEW, PEEK));
		this.watchdog = new LeaseWatchdog(this.scheduler, this.calls.isCluster(), this.timeoutNanos, this::renew,
				this::leaseLost, this::observer);
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
		return this.prefix;
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
	 * The Pub/Sub channel on which releases that had waiters are announced.
	 * @return the channel name
	 */
	public String getChannel() {
		return this.channel;
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
		awaitReleasesInFlight();
		this.closed = true;
		this.watchdog.stop();
		this.scheduler.shutdownNow();
		this.calls.close();
		super.close();
	}

	/** Waits, up to the command timeout, until every release sent has its answer. */
	private void awaitReleasesInFlight() {
		long left = this.timeoutNanos;
		this.releasesLock.lock();
		try {
			while (this.releasesInFlight.get() > 0 && left > 0) {
				left = this.noReleaseInFlight.awaitNanos(left);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		finally {
			this.releasesLock.unlock();
		}
		int unanswered = this.releasesInFlight.get();
		if (unanswered > 0) {
			logger.warn("Closing the lock registry with {} releases unanswered", unanswered);
		}
	}

	// ---- keys ----

	@Override
	protected String storeKey(String namespace, String key) {
		int h = namespace.hashCode() * 31 + key.hashCode();
		int bucket = (h ^ (h >>> 16)) & (BUCKETS - 1);
		StringBuilder sb = new StringBuilder(this.prefix.length() + namespace.length() + key.length() + 8);
		sb.append(this.prefix);
		if (!namespace.isEmpty()) {
			sb.append(namespace).append(':');
		}
		return sb.append('{').append(bucket).append("}:").append(key).toString();
	}

	/**
	 * The fencing counter in the same slot as {@code storeKey}:
	 * {@code <prefix>{<bucket>}}.
	 */
	private String fenceKey(String storeKey) {
		int open = storeKey.indexOf('{', this.prefix.length());
		int close = storeKey.indexOf('}', open);
		return this.prefix + storeKey.substring(open, close + 1);
	}

	private static SecureRandom[] newRandoms(int count) {
		SecureRandom[] randoms = new SecureRandom[count];
		for (int i = 0; i < count; i++) {
			try {
				randoms[i] = SecureRandom.getInstance("DRBG");
			}
			catch (java.security.NoSuchAlgorithmException ex) {
				randoms[i] = new SecureRandom();
			}
			// seeded now, when the class loads, not on an event loop by the first acquire
			// (seeding reads the entropy source: a blocking file read)
			randoms[i].nextBytes(new byte[1]);
		}
		return randoms;
	}

	@SuppressWarnings("deprecation") // Thread.getId(): threadId() is Java 19+
	private static String newOwner() {
		byte[] bytes = new byte[OWNER_LENGTH / 2];
		long id = Thread.currentThread().getId();
		RANDOMS[(int) (id ^ (id >>> 32)) & (RANDOMS.length - 1)].nextBytes(bytes);
		return HexFormat.of().formatHex(bytes);
	}

	// ---- acquire / release ----

	@Override
	protected Attempt attempt(String key, String storeKey, Duration lease) {
		String owner = newOwner();
		long leaseMillis = lease.toMillis();
		long sentAt = System.nanoTime();
		long deadline = sentAt + this.timeoutNanos;
		AtomicBoolean abandoned = new AtomicBoolean();
		CompletableFuture<Long> answer = null;
		ReplicaAcknowledgement.Pending replicaWait = (this.replicaAck != null) ? this.replicaAck.pending() : null;
		Long result;
		try {
			// after a NOSCRIPT fallback of an attempt given up on, the undo goes again,
			// right behind the fallback
			answer = this.calls.callAndWait(replicaWait, ACQUIRE, ScriptOutputType.INTEGER, key, deadline, true, () -> {
				if (abandoned.get()) {
					undo(storeKey, owner);
				}
			}, new String[] { storeKey, fenceKey(storeKey) }, owner, Long.toString(leaseMillis),
					Integer.toString(HAND_OFFS));
			result = this.calls.await(answer, deadline, key, true);
		}
		catch (LockUnavailableException | LockInterruptedException ex) {
			if (answer != null) {
				abandoned.set(true);
				undo(storeKey, owner);
			}
			throw ex;
		}
		if (result > 0 && replicaWait != null) {
			awaitReplicas(key, storeKey, owner, replicaWait, deadline);
		}
		return outcome(key, storeKey, owner, leaseMillis, sentAt, result);
	}

	/**
	 * The acquire script's answer as an attempt: a grant (the fencing token) under
	 * renewal from now, or how long to wait (the remaining lease, at most the recheck
	 * interval).
	 */
	private Attempt outcome(String key, String storeKey, String owner, long leaseMillis, long sentAt, long result) {
		if (result > 0) {
			RedisLease redisLease = new RedisLease(storeKey, owner, leaseMillis, sentAt);
			RedisGrant grant = new RedisGrant(key, redisLease, result, sentAt, HAND_OFFS);
			redisLease.holder(grant);
			this.watchdog.add(redisLease);
			return Attempt.granted(grant);
		}
		long remainingLease = TimeUnit.MILLISECONDS.toNanos(-1 - result);
		return Attempt.heldFor(Math.min(remainingLease + TimeUnit.MILLISECONDS.toNanos(1), this.recheckNanos));
	}

	/**
	 * The acquire script sent without blocking; the same script, undo and replica check
	 * as {@link #attempt}. The outcome fails within the command timeout; an acquire given
	 * up on (that timeout, a Redis error, too few replicas) is undone right behind it on
	 * the same connection, as in the blocking attempt. It is sent only once the registry
	 * is connected, so that the undo can never overtake it.
	 */
	@Override
	protected CompletableFuture<Attempt> attemptAsync(String key, String storeKey, Duration lease) {
		String owner = newOwner();
		long leaseMillis = lease.toMillis();
		long sentAt = System.nanoTime();
		long deadline = sentAt + this.timeoutNanos;
		ReplicaAcknowledgement.Pending replicaWait = (this.replicaAck != null) ? this.replicaAck.pending() : null;
		CompletableFuture<Attempt> outcome = new CompletableFuture<>();
		AsyncAttempt state = new AsyncAttempt(storeKey, owner);
		ScheduledFuture<?> timeout = schedule(() -> state.giveUp(outcome, this.calls.timedOut(key, null)),
				this.timeoutNanos);
		this.calls.whenConnected(key).thenCompose((connected) -> {
			synchronized (state) {
				if (state.abandoned) {
					return CompletableFuture.<Long>failedFuture(this.calls.timedOut(key, null));
				}
				state.sent = true;
				return this.calls.<Long>callAsync(replicaWait, ACQUIRE, ScriptOutputType.INTEGER, key, deadline,
						state::afterFallback, new String[] { storeKey, fenceKey(storeKey) }, owner,
						Long.toString(leaseMillis), Integer.toString(HAND_OFFS));
			}
		}).whenComplete((result, failure) -> {
			if (failure != null) {
				timeout.cancel(false);
				state.giveUp(outcome, this.calls.failure(key, failure));
			}
			else if (result > 0 && replicaWait != null) {
				replicaWait.answer().whenComplete((acknowledged, replicaFailure) -> {
					timeout.cancel(false);
					RuntimeException problem = (replicaFailure != null) ? this.calls.failure(key, replicaFailure)
							: Objects.requireNonNull(this.replicaAck).check(key, acknowledged);
					if (problem != null) {
						state.giveUp(outcome, problem);
					}
					else {
						granted(outcome, outcome(key, storeKey, owner, leaseMillis, sentAt, result));
					}
				});
			}
			else {
				timeout.cancel(false);
				granted(outcome, outcome(key, storeKey, owner, leaseMillis, sentAt, result));
			}
		});
		return outcome;
	}

	/** Completes {@code outcome}, unless it timed out meanwhile (then undone already). */
	private void granted(CompletableFuture<Attempt> outcome, Attempt attempt) {
		if (!outcome.complete(attempt) && attempt.grant() instanceof RedisGrant grant) {
			this.watchdog.remove(grant.lease);
		}
	}

	/** Whether an asynchronous acquire was sent and given up on; guarded by itself. */
	private final class AsyncAttempt {

		private final String storeKey;

		private final String owner;

		boolean sent;

		boolean abandoned;

		AsyncAttempt(String storeKey, String owner) {
			this.storeKey = storeKey;
			this.owner = owner;
		}

		/** Fails the outcome and, if the acquire went out, undoes it behind it. */
		void giveUp(CompletableFuture<Attempt> outcome, RuntimeException failure) {
			if (!outcome.completeExceptionally(failure)) {
				return;
			}
			boolean undo;
			synchronized (this) {
				this.abandoned = true;
				undo = this.sent;
			}
			if (undo) {
				undo(this.storeKey, this.owner);
			}
		}

		/** After an EVAL fallback of an acquire given up on, the undo goes again. */
		void afterFallback() {
			boolean undo;
			synchronized (this) {
				undo = this.abandoned;
			}
			if (undo) {
				undo(this.storeKey, this.owner);
			}
		}

	}

	/**
	 * Waits for the WAIT written behind the acquire; if fewer replicas than
	 * {@code lock.redis.min-replicas} acknowledged it (or the answer does not come),
	 * deletes the key again, waiting for that (bounded), and throws.
	 */
	private void awaitReplicas(String key, String storeKey, String owner, ReplicaAcknowledgement.Pending replicaWait,
			long deadline) {
		RuntimeException failure;
		try {
			long acknowledged = this.calls.await(replicaWait.answer(), deadline, key, true);
			failure = Objects.requireNonNull(this.replicaAck).check(key, acknowledged);
		}
		catch (LockUnavailableException | LockInterruptedException ex) {
			failure = ex;
		}
		if (failure == null) {
			return;
		}
		CompletableFuture<Long> undone = undo(storeKey, owner);
		if (undone != null) {
			try {
				this.calls.await(undone, System.nanoTime() + this.timeoutNanos, key, false);
			}
			catch (LockUnavailableException ex) {
				logger.warn("Could not release lock '{}' after too few replicas acknowledged it; its lease ends it: {}",
						key, this.calls.describe(ex));
			}
		}
		throw failure;
	}

	/**
	 * The caller was told the attempt failed, but Redis may still run it (it was sent;
	 * the driver re-sends commands that were in flight when it reconnects, and a driver
	 * timeout only drops the answer): queue the compare-and-delete of its owner token
	 * right behind it on the same connection, so that whatever happens to the answer,
	 * nothing stays locked for a caller that holds nothing. It deletes only a key that
	 * holds this owner token.
	 */
	private @Nullable CompletableFuture<Long> undo(String storeKey, String owner) {
		if (this.closed) {
			return null;
		}
		try {
			return this.calls
				.<Long>call(RELEASE, ScriptOutputType.INTEGER, null, System.nanoTime() + this.timeoutNanos, false, null,
						new String[] { storeKey }, owner, this.channel, "0")
				.whenComplete((released, failure) -> {
					if (failure != null) {
						logger.debug("Could not undo an acquire given up on for {}; its lease ends it: {}", storeKey,
								this.calls.describe(failure));
					}
				});
		}
		catch (RuntimeException ex) {
			logger.debug("Could not undo an acquire given up on for {}; its lease ends it", storeKey, ex);
			return null;
		}
	}

	/**
	 * Hands a held lock to a waiting thread of this process without a round trip: same
	 * owner token and lease in Redis, the next of the tokens the acquire reserved. Only
	 * while the lease is fresh, for the same lease time, and at most {@value #HAND_OFFS}
	 * times in a row.
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

	/**
	 * Sends the compare-and-delete and, unless {@code awaitRelease} is off, waits for the
	 * answer. A lock lost meanwhile is logged and counted, never thrown, so with it off
	 * the caller need not wait: any later acquire from this process runs after the
	 * release on the same connection.
	 */
	@Override
	protected void releaseInStore(LockGrant grant, Duration keepFor, ReleaseDone whenDone) {
		RedisGrant redisGrant = (RedisGrant) grant;
		this.watchdog.remove(redisGrant.lease);
		long keepMillis = (keepFor.isZero()) ? 0 : Math.max(1, keepFor.toMillis());
		CompletableFuture<Long> result;
		try {
			result = this.calls.call(RELEASE, ScriptOutputType.INTEGER, grant.key(),
					System.nanoTime() + this.timeoutNanos, this.awaitRelease, null, new String[] { grant.storeKey() },
					redisGrant.lease.owner, this.channel, Long.toString(keepMillis));
		}
		catch (LockUnavailableException ex) {
			releaseFailed(grant, ex);
			whenDone.released(false);
			return;
		}
		if (this.awaitRelease) {
			// wait here, bounded like every call; no timer task per release
			Long released = null;
			Throwable failure = null;
			try {
				released = this.calls.await(result, System.nanoTime() + this.timeoutNanos, grant.key(), false);
			}
			catch (LockUnavailableException ex) {
				failure = ex;
			}
			released(grant, released, failure, whenDone);
			return;
		}
		whenDone.sent();
		// no timer per release: the answer, or the failure Lettuce reports (disconnect,
		// its command timeout), is applied when it comes
		this.releasesInFlight.incrementAndGet();
		result.whenComplete((released, failure) -> {
			try {
				released(grant, released, failure, whenDone);
			}
			finally {
				if (this.releasesInFlight.decrementAndGet() == 0) {
					this.releasesLock.lock();
					try {
						this.noReleaseInFlight.signalAll();
					}
					finally {
						this.releasesLock.unlock();
					}
				}
			}
		});
	}

	/**
	 * The release without blocking: the same script as {@link #releaseInStore};
	 * {@code whenDone} is called with the answer, or with a failure after the command
	 * timeout. With releases not awaited (opt-in) it is {@link #releaseInStore}, which
	 * does not block then.
	 */
	@Override
	protected void releaseInStoreAsync(LockGrant grant, Duration keepFor, ReleaseDone whenDone) {
		if (!this.awaitRelease) {
			releaseInStore(grant, keepFor, whenDone);
			return;
		}
		RedisGrant redisGrant = (RedisGrant) grant;
		this.watchdog.remove(redisGrant.lease);
		long keepMillis = (keepFor.isZero()) ? 0 : Math.max(1, keepFor.toMillis());
		CompletableFuture<Long> result = this.calls.callAsync(null, RELEASE, ScriptOutputType.INTEGER, grant.key(),
				System.nanoTime() + this.timeoutNanos, null, new String[] { grant.storeKey() }, redisGrant.lease.owner,
				this.channel, Long.toString(keepMillis));
		AtomicBoolean answered = new AtomicBoolean();
		ScheduledFuture<?> timeout = schedule(() -> {
			if (answered.compareAndSet(false, true)) {
				released(grant, null, this.calls.timedOut(grant.key(), null), whenDone);
			}
		}, this.timeoutNanos);
		result.whenComplete((released, failure) -> {
			if (answered.compareAndSet(false, true)) {
				timeout.cancel(false);
				released(grant, released, failure, whenDone);
			}
		});
	}

	/**
	 * Applies the answer to a release: lost-before-release, failure log, then the local
	 * turn.
	 */
	private void released(LockGrant grant, @Nullable Long released, @Nullable Throwable failure, ReleaseDone whenDone) {
		try {
			if (failure != null) {
				releaseFailed(grant, failure);
			}
			else if (released != null && released == 0) {
				lostBeforeRelease(grant);
			}
		}
		finally {
			// 2: other processes waited and were woken by the release
			whenDone.released(failure == null && released != null && released == 2);
		}
	}

	private void releaseFailed(LockGrant grant, Throwable failure) {
		logger.warn("Could not release lock '{}': {}. It stays locked until its lease runs out.", grant.key(),
				this.calls.describe(failure));
	}

	/**
	 * Wakes the local waiter of a released key; after a (re)subscription wakes all, as
	 * messages may be lost.
	 */
	private final class WakeUpListener extends RedisPubSubAdapter<String, String> {

		@Override
		public void message(String channel, String message) {
			signal(message);
		}

		@Override
		public void subscribed(String channel, long count) {
			signalAll();
		}

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
