package io.github.userlock.support;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;

import io.github.userlock.LockException;
import io.github.userlock.LockHandle;
import io.github.userlock.LockInterruptedException;
import io.github.userlock.LockRequest;
import org.jspecify.annotations.Nullable;

/**
 * The blocking acquire of {@link AbstractLockRegistry}: the calling thread re-enters a
 * lock it holds, or waits (parked) for its turn in the key's local queue, then asks the
 * store until it gets the lock or the wait time runs out, sleeping between tries until
 * the key's wake-up signal or the retry interval the store gave.
 */
final class BlockingAcquisition {

	/** Marks "no turn within the wait time" in {@link #awaitTurn}. */
	private static final Waiter NO_TURN = new Waiter(Thread.currentThread(), Duration.ZERO);

	private final AbstractLockRegistry registry;

	BlockingAcquisition(AbstractLockRegistry registry) {
		this.registry = registry;
	}

	/**
	 * {@link #doAcquire} told to the observer: start, outcome and time waited. The wait
	 * starts once the observer has started, so that an observer's own timer (whose clock
	 * starts inside {@code acquireStarted}) spans at least the whole wait.
	 */
	@Nullable LockHandle acquire(LockRequest request) {
		LockObserver observer = this.registry.observer();
		Object context = observer.acquireStarted(request);
		long start = System.nanoTime();
		LockHandle handle;
		try {
			handle = doAcquire(request, start);
		}
		catch (RuntimeException | Error ex) {
			observer.acquireFinished(request, LockObserver.AcquireOutcome.of(ex), System.nanoTime() - start, ex,
					context);
			throw ex;
		}
		observer.acquireFinished(request,
				(handle != null) ? LockObserver.AcquireOutcome.ACQUIRED : LockObserver.AcquireOutcome.CONFLICT,
				System.nanoTime() - start, null, context);
		return handle;
	}

	private @Nullable LockHandle doAcquire(LockRequest request, long start) {
		Objects.requireNonNull(request, "request");
		LockKeys.validate(request.key(), this.registry.getMaxKeyBytes());
		Duration wait = (request.waitTime() != null) ? request.waitTime() : this.registry.getDefaultWaitTime();
		Duration lease = (request.leaseTime() != null) ? request.leaseTime() : this.registry.getDefaultLeaseTime();
		String key = AbstractLockRegistry.displayKey(request);
		String storeKey = this.registry.storeKey(request.namespace(), request.key());
		long deadline = start + AbstractLockRegistry.boundedNanos(wait);
		if (wait.isZero() || wait.isNegative()) {
			if (this.registry.heldAnswers.isHeldElsewhere(storeKey)) {
				return null;
			}
		}
		LocalKey local = this.registry.retain(storeKey);
		LockHandle handle = null;
		try {
			Thread me = Thread.currentThread();
			synchronized (local) {
				if (local.owner == me && local.grant != null) {
					if (!local.grant.isValid()) {
						throw new LockException(key, "Lock '" + key
								+ "' is held by this thread but was lost meanwhile; it cannot be re-entered");
					}
					local.holds++;
					return handle = new LocalHandle(this.registry, local, local.grant, request.key());
				}
			}
			Waiter turn = awaitTurn(local, me, key, lease, deadline);
			if (turn == NO_TURN) {
				return null;
			}
			try {
				LockGrant grant = (turn != null) ? turn.handOff : null;
				if (grant != null && !grant.isValid()) {
					this.registry.releaseInStore(grant, Duration.ZERO, (woke) -> {
					});
					grant = null;
				}
				if (grant == null) {
					if (turn != null && turn.yieldFrom >= 0) {
						awaitSignal(local, key, turn.yieldFrom,
								Math.min(AbstractLockRegistry.YIELD_NANOS, Math.max(0, deadline - System.nanoTime())));
						// then a head start for the woken processes, not cut short by a
						// later signal (the next holder may release within it)
						giveWay(key, Math.min(AbstractLockRegistry.COURTESY_NANOS,
								Math.max(0, deadline - System.nanoTime())));
					}
					grant = acquireInStore(local, key, storeKey, lease, deadline);
				}
				if (grant == null) {
					this.registry.passTurn(local, -1);
					return null;
				}
				synchronized (local) {
					local.owner = me;
					local.grant = grant;
					local.holds = 1;
					local.keepUntilNanos = grant.acquiredAtNanos();
				}
				grant.observerContext(this.registry.observer().lockHeld(request, grant));
				return handle = new LocalHandle(this.registry, local, grant, request.key());
			}
			catch (RuntimeException | Error ex) {
				this.registry.passTurn(local, -1);
				throw ex;
			}
		}
		finally {
			if (handle == null) {
				this.registry.unretain(local);
			}
		}
	}

	/**
	 * Waits until this thread is the one of this process that may use the key in the
	 * store. Returns {@code null} when the turn was free, or the granted waiter (with the
	 * grant handed over, if any), or {@link #NO_TURN} when the wait time ran out first.
	 */
	private @Nullable Waiter awaitTurn(LocalKey local, Thread me, String key, Duration lease, long deadline) {
		Waiter waiter;
		synchronized (local) {
			if (!local.busy) {
				local.busy = true;
				return null;
			}
			if (deadline - System.nanoTime() <= 0) {
				return NO_TURN;
			}
			waiter = new Waiter(me, lease);
			local.queue.add(waiter);
		}
		for (;;) {
			long left;
			synchronized (local) {
				if (waiter.granted) {
					return waiter;
				}
				left = deadline - System.nanoTime();
				boolean interrupted = Thread.interrupted();
				if (left <= 0 || interrupted) {
					local.queue.remove(waiter);
					if (interrupted) {
						Thread.currentThread().interrupt();
						throw new LockInterruptedException(key, new InterruptedException());
					}
					return NO_TURN;
				}
			}
			LockSupport.parkNanos(local, left);
		}
	}

	/** Waits {@code nanos}; only an interrupt ends it sooner. */
	private static void giveWay(String key, long nanos) {
		long end = System.nanoTime() + nanos;
		long left;
		while ((left = end - System.nanoTime()) > 0) {
			LockSupport.parkNanos(left);
			if (Thread.interrupted()) {
				Thread.currentThread().interrupt();
				throw new LockInterruptedException(key, new InterruptedException());
			}
		}
	}

	private static void awaitSignal(LocalKey local, String key, long version, long nanos) {
		try {
			local.awaitSignal(version, nanos);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new LockInterruptedException(key, ex);
		}
	}

	private @Nullable LockGrant acquireInStore(LocalKey local, String key, String storeKey, Duration lease,
			long deadline) {
		for (;;) {
			long version = local.version();
			long signals = this.registry.heldAnswers.signals();
			AbstractLockRegistry.Attempt attempt = this.registry.attempt(key, storeKey, lease);
			if (attempt.grant() != null) {
				this.registry.heldAnswers.granted(storeKey);
				return attempt.grant();
			}
			this.registry.shareHeldAnswer(storeKey, attempt.retryAfterNanos(), signals);
			long remaining = deadline - System.nanoTime();
			if (remaining <= 0) {
				return null;
			}
			awaitSignal(local, key, version, Math.min(attempt.retryAfterNanos(), remaining));
		}
	}

}
