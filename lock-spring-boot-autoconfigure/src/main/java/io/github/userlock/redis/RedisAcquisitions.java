package io.github.userlock.redis;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

import io.github.userlock.LockInterruptedException;
import io.github.userlock.LockUnavailableException;
import io.lettuce.core.ScriptOutputType;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The acquire script, sent blocking or not: a grant under renewal, or how long to wait.
 * An acquire the caller gave up on (its timeout, the driver's timeout, an interrupt, too
 * few replicas) is followed on the same connection by the compare-and-delete of its owner
 * token ({@link #undo}), so it can never keep the key locked once it runs.
 */
final class RedisAcquisitions {

	// the registry's log category, which users configure
	private static final Logger logger = LoggerFactory.getLogger(RedisLockRegistry.class);

	/**
	 * Fencing tokens reserved by each acquisition for hand-offs to local waiters, and so
	 * the most hand-offs before the lock goes back through Redis, where other instances
	 * get their turn.
	 */
	static final int HAND_OFFS = 16;

	private static final String HAND_OFFS_ARGUMENT = Integer.toString(HAND_OFFS);

	private final RedisCalls calls;

	private final RedisKeys keys;

	private final LeaseWatchdog watchdog;

	/** The opt-in WAIT behind every acquire ({@code lock.redis.min-replicas}). */
	private final @Nullable ReplicaAcknowledgement replicaAck;

	private final long timeoutNanos;

	private final long recheckNanos;

	private final Timers timers;

	private final BooleanSupplier closed;

	/** The wake-up channel of a store key (for the undo's release script). */
	private final UnaryOperator<String> channel;

	/** The lease of the last acquire, as text (a benign race: any thread's is right). */
	private volatile @Nullable LeaseArgument lastLease;

	RedisAcquisitions(RedisCalls calls, RedisKeys keys, LeaseWatchdog watchdog,
			@Nullable ReplicaAcknowledgement replicaAck, long timeoutNanos, long recheckNanos, Timers timers,
			BooleanSupplier closed, UnaryOperator<String> channel) {
		this.calls = calls;
		this.keys = keys;
		this.watchdog = watchdog;
		this.replicaAck = replicaAck;
		this.timeoutNanos = timeoutNanos;
		this.recheckNanos = recheckNanos;
		this.timers = timers;
		this.closed = closed;
		this.channel = channel;
		OwnerTokens.seed();
	}

	/** A one-shot timer of the registry. */
	@FunctionalInterface
	interface Timers {

		ScheduledFuture<?> schedule(Runnable task, long delayNanos);

	}

	/**
	 * The outcome of one acquire script.
	 *
	 * @param grant the grant, or {@code null} when another owner holds the key
	 * @param retryAfterNanos how long to wait before the next try
	 */
	record Acquired(@Nullable RedisGrant grant, long retryAfterNanos) {
	}

	/**
	 * Sends the acquire script and waits for its answer (bounded by the command timeout).
	 */
	Acquired attempt(String key, String storeKey, Duration lease) {
		String owner = OwnerTokens.next();
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
			answer = this.calls.callAndWait(replicaWait, RedisLockRegistry.ACQUIRE, ScriptOutputType.INTEGER, key,
					deadline, true, () -> {
						if (abandoned.get()) {
							undo(storeKey, owner);
						}
					}, acquireKeys(storeKey), acquireArgs(owner, leaseMillis));
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

	/** The acquire script's keys: the lock key and its bucket's fencing counter. */
	private String[] acquireKeys(String storeKey) {
		return new String[] { storeKey, this.keys.fenceKey(storeKey) };
	}

	/**
	 * The acquire script's arguments: owner token, lease, tokens reserved for hand-offs.
	 */
	private String[] acquireArgs(String owner, long leaseMillis) {
		LeaseArgument last = this.lastLease;
		if (last == null || last.millis != leaseMillis) {
			last = new LeaseArgument(leaseMillis, Long.toString(leaseMillis));
			this.lastLease = last;
		}
		return new String[] { owner, last.text, HAND_OFFS_ARGUMENT };
	}

	/**
	 * The last lease sent, as the script's argument: most callers use one lease, so its
	 * text is made once, not per acquire.
	 */
	private record LeaseArgument(long millis, String text) {
	}

	/**
	 * The acquire script's answer: a grant (the fencing token) under renewal from now, or
	 * how long to wait (the remaining lease, at most the recheck interval).
	 */
	private Acquired outcome(String key, String storeKey, String owner, long leaseMillis, long sentAt, long result) {
		if (result > 0) {
			RedisLease redisLease = new RedisLease(storeKey, owner, leaseMillis, sentAt);
			RedisGrant grant = new RedisGrant(key, redisLease, result, sentAt, HAND_OFFS);
			redisLease.holder(grant);
			this.watchdog.add(redisLease);
			return new Acquired(grant, 0);
		}
		long remainingLease = TimeUnit.MILLISECONDS.toNanos(-1 - result);
		return new Acquired(null, Math.min(remainingLease + TimeUnit.MILLISECONDS.toNanos(1), this.recheckNanos));
	}

	/**
	 * The acquire script sent without blocking; the same script, undo and replica check
	 * as {@link #attempt}. The outcome fails within the command timeout; an acquire given
	 * up on (that timeout, a Redis error, too few replicas) is undone right behind it on
	 * the same connection, as in the blocking attempt. It is sent only once the registry
	 * is connected, so that the undo can never overtake it.
	 */
	CompletableFuture<Acquired> attemptAsync(String key, String storeKey, Duration lease) {
		String owner = OwnerTokens.next();
		long leaseMillis = lease.toMillis();
		long sentAt = System.nanoTime();
		long deadline = sentAt + this.timeoutNanos;
		ReplicaAcknowledgement.Pending replicaWait = (this.replicaAck != null) ? this.replicaAck.pending() : null;
		CompletableFuture<Acquired> outcome = new CompletableFuture<>();
		AsyncAttempt state = new AsyncAttempt(storeKey, owner);
		ScheduledFuture<?> timeout = this.timers.schedule(() -> state.giveUp(outcome, this.calls.timedOut(key, null)),
				this.timeoutNanos);
		this.calls.whenConnected(key).thenCompose((connected) -> {
			synchronized (state) {
				if (state.abandoned) {
					return CompletableFuture.<Long>failedFuture(this.calls.timedOut(key, null));
				}
				state.sent = true;
				return this.calls.<Long>callAsync(replicaWait, RedisLockRegistry.ACQUIRE, ScriptOutputType.INTEGER, key,
						deadline, state::afterFallback, acquireKeys(storeKey), acquireArgs(owner, leaseMillis));
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
	private void granted(CompletableFuture<Acquired> outcome, Acquired acquired) {
		if (!outcome.complete(acquired) && acquired.grant() != null) {
			this.watchdog.remove(acquired.grant().lease);
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
		void giveUp(CompletableFuture<Acquired> outcome, RuntimeException failure) {
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
		if (this.closed.getAsBoolean()) {
			return null;
		}
		try {
			return this.calls
				.<Long>call(RedisLockRegistry.RELEASE, ScriptOutputType.INTEGER, null,
						System.nanoTime() + this.timeoutNanos, false, null, new String[] { storeKey }, owner,
						this.channel.apply(storeKey), "0")
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

}
