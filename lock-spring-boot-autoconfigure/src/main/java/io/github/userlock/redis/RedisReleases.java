package io.github.userlock.redis;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

import io.github.userlock.LockUnavailableException;
import io.github.userlock.support.LockGrant;
import io.lettuce.core.ScriptOutputType;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The release script (compare-and-delete, wake-up of waiters), awaited or not. A lock
 * lost meanwhile is logged and counted, never thrown; a release that fails leaves the key
 * to its lease. With releases not awaited (the opt-in) the answers still in flight are
 * counted, so that closing the registry can wait for them.
 */
final class RedisReleases {

	// the registry's log category, which users configure
	private static final Logger logger = LoggerFactory.getLogger(RedisLockRegistry.class);

	private final RedisCalls calls;

	private final LeaseWatchdog watchdog;

	private final boolean awaitRelease;

	private final long timeoutNanos;

	private final RedisAcquisitions.Timers timers;

	private final Consumer<LockGrant> lostBeforeRelease;

	/** The wake-up channel of a store key. */
	private final UnaryOperator<String> channel;

	/** Releases sent and not answered yet (release not awaited). */
	private final AtomicInteger inFlight = new AtomicInteger();

	private final ReentrantLock inFlightLock = new ReentrantLock();

	private final Condition noneInFlight = this.inFlightLock.newCondition();

	RedisReleases(RedisCalls calls, LeaseWatchdog watchdog, boolean awaitRelease, long timeoutNanos,
			RedisAcquisitions.Timers timers, Consumer<LockGrant> lostBeforeRelease, UnaryOperator<String> channel) {
		this.calls = calls;
		this.watchdog = watchdog;
		this.awaitRelease = awaitRelease;
		this.timeoutNanos = timeoutNanos;
		this.timers = timers;
		this.lostBeforeRelease = lostBeforeRelease;
		this.channel = channel;
	}

	/** Told when a release is complete, or (not awaited) sent. */
	interface Done {

		/**
		 * The release is complete or failed.
		 * @param wokeOtherProcesses whether waiting processes were woken
		 */
		void released(boolean wokeOtherProcesses);

		/** The release is sent and not awaited. */
		void sent();

	}

	/**
	 * Sends the compare-and-delete and, unless releases are not awaited, waits for the
	 * answer (bounded by the command timeout). Not awaited, the caller need not wait: any
	 * later acquire from this process runs after the release on the same connection.
	 */
	void release(LockGrant grant, Duration keepFor, Done whenDone) {
		CompletableFuture<Long> result;
		try {
			result = send(grant, keepFor, false);
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
		this.inFlight.incrementAndGet();
		result.whenComplete((released, failure) -> {
			try {
				released(grant, released, failure, whenDone);
			}
			finally {
				if (this.inFlight.decrementAndGet() == 0) {
					this.inFlightLock.lock();
					try {
						this.noneInFlight.signalAll();
					}
					finally {
						this.inFlightLock.unlock();
					}
				}
			}
		});
	}

	/**
	 * The release without blocking: the same script as {@link #release}; {@code whenDone}
	 * is called with the answer, or with a failure after the command timeout. With
	 * releases not awaited it is {@link #release}, which does not block then.
	 */
	void releaseAsync(LockGrant grant, Duration keepFor, Done whenDone) {
		if (!this.awaitRelease) {
			release(grant, keepFor, whenDone);
			return;
		}
		CompletableFuture<Long> result = send(grant, keepFor, true);
		AtomicBoolean answered = new AtomicBoolean();
		ScheduledFuture<?> timeout = this.timers.schedule(() -> {
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
	 * Takes the lease off the watchdog and sends the release script: blocking until
	 * connected (failing with {@link LockUnavailableException}) or, {@code async}, never
	 * blocking (failures in the future).
	 */
	private CompletableFuture<Long> send(LockGrant grant, Duration keepFor, boolean async) {
		RedisGrant redisGrant = (RedisGrant) grant;
		this.watchdog.remove(redisGrant.lease);
		long keepMillis = (keepFor.isZero()) ? 0 : Math.max(1, keepFor.toMillis());
		long deadline = System.nanoTime() + this.timeoutNanos;
		String[] keys = { grant.storeKey() };
		String owner = redisGrant.lease.owner;
		String channel = this.channel.apply(grant.storeKey());
		String keep = Long.toString(keepMillis);
		return async
				? this.calls.callAsync(null, RedisLockRegistry.RELEASE, ScriptOutputType.INTEGER, grant.key(), deadline,
						null, keys, owner, channel, keep)
				: this.calls.call(RedisLockRegistry.RELEASE, ScriptOutputType.INTEGER, grant.key(), deadline,
						this.awaitRelease, null, keys, owner, channel, keep);
	}

	/**
	 * Applies the answer to a release: lost-before-release, failure log, then the local
	 * turn.
	 */
	private void released(LockGrant grant, @Nullable Long released, @Nullable Throwable failure, Done whenDone) {
		try {
			if (failure != null) {
				releaseFailed(grant, failure);
			}
			else if (released != null && released == 0) {
				this.lostBeforeRelease.accept(grant);
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

	/** Waits, up to the command timeout, until every release sent has its answer. */
	void awaitInFlight() {
		long left = this.timeoutNanos;
		this.inFlightLock.lock();
		try {
			while (this.inFlight.get() > 0 && left > 0) {
				left = this.noneInFlight.awaitNanos(left);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		finally {
			this.inFlightLock.unlock();
		}
		int unanswered = this.inFlight.get();
		if (unanswered > 0) {
			logger.warn("Closing the lock registry with {} releases unanswered", unanswered);
		}
	}

}
