package io.github.userlock.redis;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.userlock.LockInterruptedException;
import io.github.userlock.LockUnavailableException;
import io.github.userlock.support.AbstractLockRegistry;
import io.github.userlock.support.LockGrant;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
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
 * are one Lua script each (one round trip, EVALSHA with a fallback to EVAL after a script
 * flush). While a lock is held a watchdog renews its lease every third of it, batching
 * all held locks into few calls; a lock found no longer ours, or not renewed before its
 * lease ran out, is reported lost. Waiters are woken through one shared Pub/Sub
 * subscription per registry, by releases that saw a waiter, and otherwise re-check when
 * the lease would run out or after the recheck interval. Every Redis call is bounded by
 * the command timeout.
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

	private static final int RENEW_BATCH = 500;

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
	 * One DRBG per thread: unguessable owner tokens without the global lock and the read
	 * of /dev/urandom that the platform default (NativePRNG) takes on every call.
	 */
	private static final ThreadLocal<SecureRandom> RANDOM = ThreadLocal.withInitial(RedisLockRegistry::newRandom);

	private final AbstractRedisClient client;

	private final String prefix;

	private final String channel;

	private final long timeoutNanos;

	private final Duration commandTimeout;

	private final long recheckNanos;

	private final ScheduledExecutorService scheduler;

	private final Watchdog watchdog;

	private final Object connectMonitor = new Object();

	private volatile @Nullable CompletableFuture<Connections> connecting;

	private volatile boolean closed;

	private final boolean awaitRelease;

	/**
	 * Releases sent and not answered yet; {@link #close()} waits (on the monitor) until
	 * there are none.
	 */
	private final AtomicInteger releasesInFlight = new AtomicInteger();

	private final Object releasesMonitor = new Object();

	private RedisLockRegistry(Builder builder) {
		super(builder.defaultWaitTime, builder.defaultLeaseTime, builder.maxKeyLength);
		this.client = builder.client;
		this.prefix = builder.keyPrefix;
		this.channel = builder.keyPrefix + "released";
		this.commandTimeout = builder.commandTimeout;
		this.timeoutNanos = builder.commandTimeout.toNanos();
		this.recheckNanos = builder.recheckInterval.toNanos();
		this.awaitRelease = builder.awaitRelease;
		this.scheduler = Executors.newSingleThreadScheduledExecutor((runnable) -> {
			Thread thread = new Thread(runnable, "user-lock-watchdog");
			thread.setDaemon(true);
			return thread;
		});
		this.watchdog = new Watchdog();
		startConnecting(null);
	}

	/**
	 * A builder for a registry on {@code client} (a Lettuce {@link RedisClient} or
	 * {@link RedisClusterClient}).
	 */
	public static Builder builder(AbstractRedisClient client) {
		return new Builder(client);
	}

	/** The prefix of every key and channel this registry uses. */
	public String getKeyPrefix() {
		return this.prefix;
	}

	/**
	 * Whether {@link #close()} was called; a closed registry throws
	 * {@link LockUnavailableException}.
	 */
	public boolean isClosed() {
		return this.closed;
	}

	/** The Pub/Sub channel on which releases that had waiters are announced. */
	public String getChannel() {
		return this.channel;
	}

	/**
	 * Whether {@code release()} waits for Redis to confirm the release (see
	 * {@link Builder#awaitRelease(boolean)}).
	 */
	public boolean isAwaitRelease() {
		return this.awaitRelease;
	}

	/**
	 * Shares "held" answers between no-wait calls of this instance unless releases are
	 * awaited: every release of a key that someone tried publishes on the wake-up
	 * channel, which ends the sharing.
	 */
	@Override
	protected boolean sharesHeldAnswers() {
		return !this.awaitRelease;
	}

	/**
	 * Redis's view of {@code key} in {@code namespace}, whoever holds it, without taking
	 * it: its remaining lease, or empty when nobody holds it. A key without an expiry
	 * (not written by this library) reads as a zero lease.
	 * @throws LockUnavailableException when Redis does not answer within the command
	 * timeout
	 * @throws IllegalArgumentException when the key or namespace is invalid
	 */
	public java.util.Optional<Duration> leaseInStore(String namespace, String key) {
		io.github.userlock.LockRequest.of(key).withNamespace(namespace);
		io.github.userlock.support.LockKeys.validate(key, getMaxKeyBytes());
		long deadline = System.nanoTime() + this.timeoutNanos;
		Long ttl = awaitFuture(
				call(PEEK, ScriptOutputType.INTEGER, key, deadline, true, new String[] { storeKey(namespace, key) }),
				deadline, key, true);
		return (ttl == -2) ? java.util.Optional.empty() : java.util.Optional.of(Duration.ofMillis(Math.max(0, ttl)));
	}

	/** How many held locks the watchdog renews now. */
	public int heldLockCount() {
		return this.watchdog.size();
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
		this.scheduler.shutdownNow();
		CompletableFuture<Connections> current = this.connecting;
		if (current != null && current.isDone() && !current.isCompletedExceptionally()) {
			current.join().close();
		}
		else if (current != null) {
			current.thenAccept(Connections::close);
		}
	}

	/** Waits, up to the command timeout, until every release sent has its answer. */
	private void awaitReleasesInFlight() {
		long deadline = System.nanoTime() + this.timeoutNanos;
		synchronized (this.releasesMonitor) {
			long left;
			while (this.releasesInFlight.get() > 0 && (left = deadline - System.nanoTime()) > 0) {
				try {
					this.releasesMonitor.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					break;
				}
			}
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

	private static SecureRandom newRandom() {
		try {
			return SecureRandom.getInstance("DRBG");
		}
		catch (java.security.NoSuchAlgorithmException ex) {
			return new SecureRandom();
		}
	}

	private static String newOwner() {
		byte[] bytes = new byte[OWNER_LENGTH / 2];
		RANDOM.get().nextBytes(bytes);
		return HexFormat.of().formatHex(bytes);
	}

	// ---- acquire / release ----

	@Override
	protected Attempt attempt(String key, String storeKey, Duration lease) {
		String owner = newOwner();
		long leaseMillis = lease.toMillis();
		long sentAt = System.nanoTime();
		long deadline = sentAt + this.timeoutNanos;
		CompletableFuture<Long> answer = null;
		Long result;
		try {
			answer = call(ACQUIRE, ScriptOutputType.INTEGER, key, deadline, true,
					new String[] { storeKey, fenceKey(storeKey) }, owner, Long.toString(leaseMillis),
					Integer.toString(HAND_OFFS));
			result = awaitFuture(answer, deadline, key, true);
		}
		catch (LockUnavailableException | LockInterruptedException ex) {
			if (answer != null) {
				undoIfItLands(answer, storeKey, owner);
			}
			throw ex;
		}
		if (result > 0) {
			RedisGrant grant = new RedisGrant(key, storeKey, result, sentAt, owner, leaseMillis, HAND_OFFS);
			this.watchdog.add(grant);
			return Attempt.granted(grant);
		}
		long remainingLease = TimeUnit.MILLISECONDS.toNanos(-1 - result);
		return Attempt.heldFor(Math.min(remainingLease + TimeUnit.MILLISECONDS.toNanos(1), this.recheckNanos));
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
		long now = System.nanoTime();
		if (current.handOffsLeft <= 0 || current.leaseMillis != lease.toMillis()
				|| current.validUntilNanos - now < current.leaseNanos() / 2) {
			return null;
		}
		RedisGrant next = new RedisGrant(current.key(), current.storeKey(), current.fencingToken() + 1, now,
				current.owner, current.leaseMillis, current.handOffsLeft - 1);
		next.validUntilNanos = current.validUntilNanos;
		next.renewAtNanos = current.renewAtNanos;
		this.watchdog.remove(current);
		this.watchdog.add(next);
		return next;
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
		this.watchdog.remove(redisGrant);
		long keepMillis = (keepFor.isZero()) ? 0 : Math.max(1, keepFor.toMillis());
		CompletableFuture<Long> result;
		try {
			result = call(RELEASE, ScriptOutputType.INTEGER, grant.key(), System.nanoTime() + this.timeoutNanos,
					this.awaitRelease, new String[] { grant.storeKey() }, redisGrant.owner, this.channel,
					Long.toString(keepMillis));
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
				released = awaitFuture(result, System.nanoTime() + this.timeoutNanos, grant.key(), false);
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
					synchronized (this.releasesMonitor) {
						this.releasesMonitor.notifyAll();
					}
				}
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
				describe(failure));
	}

	/**
	 * The cause of a failed call, as a log line says it (a timeout names the setting).
	 */
	private String describe(Throwable failure) {
		Throwable cause = unwrap(failure);
		return (cause instanceof TimeoutException) ? noAnswerWithinTimeout() : String.valueOf(cause.getMessage());
	}

	private static Throwable unwrap(Throwable failure) {
		return (failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null)
				? failure.getCause() : failure;
	}

	private String noAnswerWithinTimeout() {
		return "Redis did not answer within " + this.commandTimeout.toMillis() + " ms (lock.command-timeout)";
	}

	/**
	 * An attempt given up on (timeout, interrupt) may still run in Redis later: the
	 * client re-sends commands that were in flight or queued when it reconnects. If it
	 * lands and takes the lock, release it by its owner token, so that nothing stays
	 * locked for a caller that was told it failed.
	 */
	private void undoIfItLands(CompletableFuture<Long> answer, String storeKey, String owner) {
		answer.thenAccept((token) -> {
			if (token != null && token > 0 && !this.closed) {
				try {
					call(RELEASE, ScriptOutputType.INTEGER, null, System.nanoTime() + this.timeoutNanos, false,
							new String[] { storeKey }, owner, this.channel, "0");
				}
				catch (RuntimeException ex) {
					logger.debug("Could not undo a late acquire of {}; its lease ends it", storeKey, ex);
				}
			}
		});
	}

	// ---- Redis calls ----

	/**
	 * Sends {@code script}: EVALSHA first and, after a NOSCRIPT (restart, failover,
	 * SCRIPT FLUSH), the source with EVAL. The returned future fails with
	 * {@link LockUnavailableException} on a Redis error; it has no timeout of its own (it
	 * completes when Redis answers), callers bound their wait.
	 */
	private <T> CompletableFuture<T> call(RedisScript script, ScriptOutputType type, @Nullable String key,
			long deadline, boolean awaited, String[] keys, String... args) {
		Connections connections = connections(key, deadline);
		CompletableFuture<T> first = connections.pipeline
			.send(() -> connections.scripting.<T>evalsha(script.sha(), type, keys, args), awaited);
		return first.exceptionallyCompose((failure) -> {
			Throwable cause = unwrap(failure);
			if (cause instanceof RedisNoScriptException || String.valueOf(cause.getMessage()).startsWith("NOSCRIPT")) {
				return connections.pipeline.send(() -> connections.scripting.<T>eval(script.source(), type, keys, args),
						awaited);
			}
			return CompletableFuture.failedFuture(
					new LockUnavailableException(key, "Redis failed" + forKey(key) + ": " + cause.getMessage(), cause));
		});
	}

	private <T> T awaitFuture(CompletableFuture<T> future, long deadline, @Nullable String key, boolean interruptible) {
		boolean interrupted = false;
		try {
			for (;;) {
				try {
					return future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
				}
				catch (InterruptedException ex) {
					if (interruptible) {
						Thread.currentThread().interrupt();
						throw new LockInterruptedException(String.valueOf(key), ex);
					}
					interrupted = true;
				}
				catch (TimeoutException ex) {
					throw timedOut(key, ex);
				}
				catch (ExecutionException ex) {
					Throwable cause = (ex.getCause() != null) ? ex.getCause() : ex;
					if (cause instanceof LockUnavailableException unavailable) {
						throw unavailable;
					}
					if (cause instanceof TimeoutException) {
						throw timedOut(key, cause);
					}
					throw new LockUnavailableException(key, "Redis failed" + forKey(key) + ": " + cause.getMessage(),
							cause);
				}
			}
		}
		finally {
			if (interrupted) {
				Thread.currentThread().interrupt();
			}
		}
	}

	private LockUnavailableException timedOut(@Nullable String key, Throwable cause) {
		return new LockUnavailableException(key, noAnswerWithinTimeout() + forKey(key), cause);
	}

	private static String forKey(@Nullable String key) {
		return (key != null) ? " for lock '" + key + "'" : "";
	}

	// ---- connections ----

	private Connections connections(@Nullable String key, long deadline) {
		if (this.closed) {
			throw new LockUnavailableException(key, "The lock registry is closed", null);
		}
		CompletableFuture<Connections> current = this.connecting;
		if (current == null || current.isCompletedExceptionally()) {
			current = startConnecting(current);
		}
		if (current.isDone() && !current.isCompletedExceptionally()) {
			return current.join();
		}
		try {
			return awaitFuture(current, deadline, key, true);
		}
		catch (LockUnavailableException ex) {
			throw new LockUnavailableException(key,
					"Cannot connect to Redis" + forKey(key) + ": "
							+ ((ex.getCause() instanceof TimeoutException) ? "no connection within "
									+ this.commandTimeout.toMillis() + " ms (lock.command-timeout)" : rootReason(ex)),
					ex.getCause());
		}
	}

	/**
	 * The innermost message of a connection failure: Lettuce wraps the server's answer
	 * (WRONGPASS, NOAUTH, NOPERM) in "Unable to connect to host:port" exceptions.
	 */
	private static String rootReason(Throwable failure) {
		Throwable cause = failure;
		String reason = failure.getMessage();
		int depth = 0;
		while (cause.getCause() != null && cause.getCause() != cause && depth++ < 20) {
			cause = cause.getCause();
			if (cause instanceof io.lettuce.core.RedisCommandExecutionException) {
				// the server's own answer, e.g. WRONGPASS or NOPERM
				return String.valueOf(cause.getMessage());
			}
			for (Throwable suppressed : cause.getSuppressed()) {
				if (suppressed instanceof io.lettuce.core.RedisCommandExecutionException) {
					return String.valueOf(suppressed.getMessage());
				}
			}
			if (cause.getMessage() != null) {
				reason = cause.getMessage();
			}
		}
		return String.valueOf(reason);
	}

	private CompletableFuture<Connections> startConnecting(@Nullable CompletableFuture<Connections> failed) {
		synchronized (this.connectMonitor) {
			CompletableFuture<Connections> current = this.connecting;
			if (current != null && current != failed && !current.isCompletedExceptionally()) {
				return current;
			}
			CompletableFuture<Connections> next = CompletableFuture.supplyAsync(this::connect, (runnable) -> {
				Thread thread = new Thread(runnable, "user-lock-connect");
				thread.setDaemon(true);
				thread.start();
			});
			this.connecting = next;
			return next;
		}
	}

	private Connections connect() {
		StatefulConnection<String, String> commands = null;
		StatefulRedisPubSubConnection<String, String> pubSub = null;
		try {
			RedisScriptingAsyncCommands<String, String> scripting;
			if (this.client instanceof RedisClusterClient cluster) {
				StatefulRedisClusterConnection<String, String> connection = cluster.connect(StringCodec.UTF8);
				commands = connection;
				scripting = connection.async();
				pubSub = cluster.connectPubSub(StringCodec.UTF8);
			}
			else if (this.client instanceof RedisClient standalone) {
				var connection = standalone.connect(StringCodec.UTF8);
				commands = connection;
				scripting = connection.async();
				pubSub = standalone.connectPubSub(StringCodec.UTF8);
			}
			else {
				throw new IllegalStateException("Unsupported Lettuce client " + this.client.getClass().getName());
			}
			pubSub.addListener(new WakeUpListener());
			pubSub.async().subscribe(this.channel).get(this.timeoutNanos, TimeUnit.NANOSECONDS);
			Connections connections = new Connections(commands, scripting, pubSub,
					new CommandPipeline(commands, !(this.client instanceof RedisClusterClient)));
			if (this.closed) {
				connections.close();
			}
			return connections;
		}
		catch (Exception ex) {
			closeQuietly(commands);
			closeQuietly(pubSub);
			throw new IllegalStateException(ex.getMessage(), ex);
		}
	}

	private static void closeQuietly(@Nullable StatefulConnection<?, ?> connection) {
		if (connection != null) {
			try {
				// wait (bounded) so that the client does not find it still open and close
				// it again
				connection.closeAsync().get(2, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			catch (ExecutionException | TimeoutException | RuntimeException ex) {
				// closing only
			}
		}
	}

	private record Connections(StatefulConnection<String, String> commands,
			RedisScriptingAsyncCommands<String, String> scripting, StatefulRedisPubSubConnection<String, String> pubSub,
			CommandPipeline pipeline) {

		void close() {
			closeQuietly(this.pubSub);
			closeQuietly(this.commands);
		}

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

	// ---- leases ----

	/**
	 * A lock held in Redis: its owner token, lease, and what the watchdog knows of it.
	 */
	static final class RedisGrant extends LockGrant {

		final String owner;

		final long leaseMillis;

		/** How many more local hand-offs this acquisition's reserved tokens allow. */
		final int handOffsLeft;

		/**
		 * Until when the lease is surely ours: when the last successful acquire or renew
		 * was sent, plus lease.
		 */
		volatile long validUntilNanos;

		/** When the watchdog should renew next. */
		volatile long renewAtNanos;

		/** Whether a renewal is in flight; watchdog thread only. */
		boolean renewing;

		RedisGrant(String key, String storeKey, long token, long sentAt, String owner, long leaseMillis,
				int handOffsLeft) {
			super(key, storeKey, token, sentAt);
			this.owner = owner;
			this.leaseMillis = leaseMillis;
			this.handOffsLeft = handOffsLeft;
			this.validUntilNanos = sentAt + validityNanos();
			this.renewAtNanos = sentAt + TimeUnit.MILLISECONDS.toNanos(leaseMillis) / 3;
		}

		@Override
		public boolean isValid() {
			return super.isValid() && System.nanoTime() - this.validUntilNanos < 0;
		}

		@Override
		public Duration leaseRemaining() {
			long end = this.validUntilNanos - validityNanos() + leaseNanos();
			return Duration.ofNanos(Math.max(0, end - System.nanoTime()));
		}

		/**
		 * How long after sending an acquire or renewal the lock is surely still ours: the
		 * lease less a margin for clock drift and scheduling (1% of the lease plus 2 ms,
		 * as Redlock implementations use), so that a loss is reported before Redis can
		 * expire the key and another instance can take it.
		 */
		long validityNanos() {
			long lease = leaseNanos();
			long drift = Math.min(lease / 100 + TimeUnit.MILLISECONDS.toNanos(2), lease / 2);
			return lease - drift;
		}

		long leaseNanos() {
			return TimeUnit.MILLISECONDS.toNanos(this.leaseMillis);
		}

	}

	/**
	 * Renews every held lock every third of its lease. One task for the whole registry:
	 * at each tick it renews every lock due within the next sixth of its lease, so locks
	 * taken at different moments are renewed together, in batches of up to
	 * {@value #RENEW_BATCH} keys per script call (per hash slot on a cluster). A lock
	 * that Redis says is no longer ours, or whose lease ran out before a renewal
	 * succeeded, is reported lost.
	 */
	private final class Watchdog {

		private final java.util.Set<RedisGrant> held = java.util.concurrent.ConcurrentHashMap.newKeySet();

		// guarded by this
		private volatile java.util.concurrent.@Nullable ScheduledFuture<?> next;

		private volatile long nextAtNanos;

		int size() {
			return this.held.size();
		}

		void add(RedisGrant grant) {
			this.held.add(grant);
			scheduleNoLaterThan(grant.renewAtNanos);
		}

		void remove(RedisGrant grant) {
			this.held.remove(grant);
		}

		private void scheduleNoLaterThan(long atNanos) {
			// fast path on every acquire: a tick is already due no later
			if (this.next != null && this.nextAtNanos - atNanos <= 0) {
				return;
			}
			synchronized (this) {
				reschedule(atNanos);
			}
		}

		// guarded by this
		private void reschedule(long atNanos) {
			if (RedisLockRegistry.this.closed) {
				return;
			}
			if (this.next != null && this.nextAtNanos - atNanos <= 0) {
				return;
			}
			if (this.next != null) {
				this.next.cancel(false);
			}
			this.nextAtNanos = atNanos;
			try {
				this.next = RedisLockRegistry.this.scheduler.schedule(this::tick,
						Math.max(0, atNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
			}
			catch (java.util.concurrent.RejectedExecutionException ex) {
				this.next = null;
			}
		}

		private void tick() {
			synchronized (this) {
				this.next = null;
			}
			try {
				renewDue();
			}
			catch (RuntimeException ex) {
				logger.warn("Lock watchdog failed; retrying", ex);
			}
			finally {
				scheduleNextTick();
			}
		}

		/**
		 * Schedules the next tick for the earliest renewal or lease end among the held
		 * locks.
		 */
		private void scheduleNextTick() {
			long earliest = 0;
			boolean any = false;
			for (RedisGrant grant : this.held) {
				long at = (!grant.renewing && grant.renewAtNanos - grant.validUntilNanos < 0) ? grant.renewAtNanos
						: grant.validUntilNanos;
				if (!any || at - earliest < 0) {
					earliest = at;
					any = true;
				}
			}
			if (any) {
				scheduleNoLaterThan(earliest);
			}
		}

		private void renewDue() {
			long now = System.nanoTime();
			Map<Integer, List<RedisGrant>> due = new LinkedHashMap<>();
			boolean cluster = RedisLockRegistry.this.client instanceof RedisClusterClient;
			for (RedisGrant grant : this.held) {
				if (grant.isLost()) {
					this.held.remove(grant);
				}
				else if (now - grant.validUntilNanos >= 0) {
					this.held.remove(grant);
					lost(grant, "its lease of " + grant.leaseMillis + " ms ran out before Redis confirmed a renewal");
				}
				else if (!grant.renewing && grant.renewAtNanos - now <= grant.leaseNanos() / 6) {
					int slot = cluster ? SlotHash.getSlot(grant.storeKey()) : 0;
					due.computeIfAbsent(slot, (s) -> new ArrayList<>()).add(grant);
				}
			}
			for (List<RedisGrant> grants : due.values()) {
				for (int from = 0; from < grants.size(); from += RENEW_BATCH) {
					renew(grants.subList(from, Math.min(grants.size(), from + RENEW_BATCH)));
				}
			}
		}

		/**
		 * Sends one renewal batch without waiting: the watchdog thread stays free to
		 * report leases that run out while Redis is slow. The answer is applied on the
		 * watchdog thread.
		 */
		private void renew(List<RedisGrant> grants) {
			String[] keys = new String[grants.size()];
			String[] args = new String[grants.size() * 2];
			long sentAt = System.nanoTime();
			for (int i = 0; i < keys.length; i++) {
				RedisGrant grant = grants.get(i);
				keys[i] = grant.storeKey();
				args[2 * i] = grant.owner;
				args[2 * i + 1] = Long.toString(grant.leaseMillis);
				grant.renewing = true;
			}
			List<RedisGrant> batch = List.copyOf(grants);
			observer().renewalCall(batch.size());
			CompletableFuture<List<Object>> answer;
			try {
				answer = RedisLockRegistry.this
					.<List<Object>>call(RENEW, ScriptOutputType.MULTI, null,
							sentAt + RedisLockRegistry.this.timeoutNanos, false, keys, args)
					.copy()
					.orTimeout(RedisLockRegistry.this.timeoutNanos, TimeUnit.NANOSECONDS);
			}
			catch (LockUnavailableException ex) {
				answer = CompletableFuture.failedFuture(ex);
			}
			answer.whenCompleteAsync((lostIndexes, failure) -> {
				if (failure != null) {
					renewFailed(batch, failure);
				}
				else {
					renewed(batch, sentAt, lostIndexes);
				}
				scheduleNextTick();
			}, RedisLockRegistry.this.scheduler);
		}

		private void renewFailed(List<RedisGrant> grants, Throwable failure) {
			logger.warn("Could not renew the leases of {} locks: {}. Retrying until their leases run out.",
					grants.size(), describe(failure));
			observer().renewals(io.github.userlock.support.LockObserver.RenewalOutcome.FAILED, grants.size());
			long now = System.nanoTime();
			for (RedisGrant grant : grants) {
				grant.renewing = false;
				grant.renewAtNanos = now + Math.min(TimeUnit.SECONDS.toNanos(1), grant.leaseNanos() / 10);
			}
		}

		private void renewed(List<RedisGrant> grants, long sentAt, List<Object> lostIndexes) {
			boolean[] lostFlags = new boolean[grants.size()];
			for (Object index : lostIndexes) {
				lostFlags[((Long) index).intValue() - 1] = true;
			}
			for (int i = 0; i < lostFlags.length; i++) {
				RedisGrant grant = grants.get(i);
				grant.renewing = false;
				if (!lostFlags[i]) {
					grant.validUntilNanos = sentAt + grant.validityNanos();
					grant.renewAtNanos = sentAt + grant.leaseNanos() / 3;
				}
				else if (this.held.remove(grant)) {
					lost(grant, "Redis no longer has it under our owner token (expired or taken over)");
				}
			}
			observer().renewals(io.github.userlock.support.LockObserver.RenewalOutcome.RENEWED,
					grants.size() - lostIndexes.size());
			observer().renewals(io.github.userlock.support.LockObserver.RenewalOutcome.LOST, lostIndexes.size());
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

		private boolean awaitRelease = false;

		private Builder(AbstractRedisClient client) {
			this.client = Objects.requireNonNull(client, "client");
		}

		/**
		 * Prefix of every key and channel (default {@code user-lock:}); must not contain
		 * braces.
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

		/** Wait time of requests that name none (default 3 s). */
		public Builder defaultWaitTime(Duration defaultWaitTime) {
			this.defaultWaitTime = Objects.requireNonNull(defaultWaitTime, "defaultWaitTime");
			return this;
		}

		/** Lease of requests that name none (default 30 s). */
		public Builder defaultLeaseTime(Duration defaultLeaseTime) {
			this.defaultLeaseTime = Objects.requireNonNull(defaultLeaseTime, "defaultLeaseTime");
			return this;
		}

		/** Longest key accepted, in UTF-8 bytes (default 512). */
		public Builder maxKeyLength(int maxKeyLength) {
			this.maxKeyLength = maxKeyLength;
			return this;
		}

		/**
		 * The most any single Redis call of the lock may take before it fails (default 2
		 * s).
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
		 * Whether {@code release()} waits for Redis to answer (default {@code false}).
		 * Not awaited, the release is sent on the registry's connection before
		 * {@code release()} returns and its outcome, lost or not, is logged when it
		 * arrives (it is never thrown, awaited or not): the caller saves a round trip,
		 * later acquires from this process run after it on the same connection, waiters
		 * of every instance are woken when it lands, and only another instance that tries
		 * without waiting in the same instant may still see the lock. With {@code true},
		 * when {@code release()} returns the key is gone and any instance can take it at
		 * once.
		 */
		public Builder awaitRelease(boolean awaitRelease) {
			this.awaitRelease = awaitRelease;
			return this;
		}

		public RedisLockRegistry build() {
			return new RedisLockRegistry(this);
		}

	}

}
