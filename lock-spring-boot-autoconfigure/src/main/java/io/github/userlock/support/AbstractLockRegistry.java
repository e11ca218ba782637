package io.github.userlock.support;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockException;
import io.github.userlock.LockHandle;
import io.github.userlock.LockInterruptedException;
import io.github.userlock.LockListener;
import io.github.userlock.LockRegistry;
import io.github.userlock.LockRequest;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local half of every registry. Per key in use it keeps one {@link LocalKey}: a
 * first-come-first-served queue so that threads of this process wait locally and only one
 * of them talks to the store at a time, the current holder (for re-entrancy) and a
 * wake-up signal. A releasing holder may pass the lock straight to the next local waiter
 * ({@link #handOff}). The entry is reference counted and removed when no thread uses the
 * key, so the map does not grow with the number of keys ever seen.
 *
 * <p>
 * Engines implement three hooks: {@link #storeKey}, {@link #attempt} (one try in the
 * store) and {@link #releaseInStore}.
 */
public abstract class AbstractLockRegistry implements LockRegistry, AutoCloseable {

	private static final Logger logger = LoggerFactory.getLogger(AbstractLockRegistry.class);

	/** Marks "no turn within the wait time" in {@link #awaitTurn}. */
	private static final Waiter NO_TURN = new Waiter(Thread.currentThread(), Duration.ZERO);

	/**
	 * The longest a thread given the turn after a release that woke other processes waits
	 * for that same wake-up before trying, so that it does not overtake them.
	 */
	private static final long YIELD_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

	/**
	 * After that wake-up, how long the thread still lets the woken processes go first:
	 * they need a moment to wake up, while this thread is already running, and without it
	 * the releasing process tends to win again (measured: one of 4 instances down to 10%
	 * of a hot key's acquisitions, against 18% or more with it).
	 */
	private static final long COURTESY_NANOS = TimeUnit.MICROSECONDS.toNanos(500);

	/**
	 * The longest wait or hold the registry computes with, about 73 years: far enough to
	 * mean "forever", near enough that {@code nanoTime} arithmetic cannot overflow.
	 */
	static final long LONGEST_NANOS = Long.MAX_VALUE / 4;

	private final Duration defaultWaitTime;

	private final Duration defaultLeaseTime;

	private final int maxKeyBytes;

	private final ConcurrentHashMap<String, LocalKey> locals = new ConcurrentHashMap<>();

	/** "Held by another process" answers shared with no-wait calls (opt-in engines). */
	private final HeldAnswers heldAnswers = new HeldAnswers();

	private final AtomicLong lostWhileHeld = new AtomicLong();

	/** Listeners and lost-callbacks, run on the event thread. */
	private final LockEvents events = new LockEvents();

	private final AtomicLong lostBeforeRelease = new AtomicLong();

	private volatile LockObserver observer = LockObserver.NONE;

	/**
	 * A registry with the given defaults.
	 * @param defaultWaitTime the wait of requests that name none; not negative
	 * @param defaultLeaseTime the lease of requests that name none; at least 1 ms
	 * @param maxKeyBytes the longest key accepted, in UTF-8 bytes; at least 1
	 * @throws IllegalArgumentException when a value is out of range
	 */
	protected AbstractLockRegistry(Duration defaultWaitTime, Duration defaultLeaseTime, int maxKeyBytes) {
		Objects.requireNonNull(defaultWaitTime, "defaultWaitTime");
		Objects.requireNonNull(defaultLeaseTime, "defaultLeaseTime");
		if (defaultWaitTime.isNegative()) {
			throw new IllegalArgumentException("Default wait time must not be negative, was " + defaultWaitTime);
		}
		if (defaultLeaseTime.toMillis() < 1) {
			throw new IllegalArgumentException("Default lease time must be at least 1 ms, was " + defaultLeaseTime);
		}
		if (maxKeyBytes < 1) {
			throw new IllegalArgumentException("Maximum key length must be at least 1 byte, was " + maxKeyBytes);
		}
		this.defaultWaitTime = defaultWaitTime;
		this.defaultLeaseTime = defaultLeaseTime;
		this.maxKeyBytes = maxKeyBytes;
	}

	// ---- hooks ----

	/**
	 * The key in the store for {@code key} in {@code namespace}; must be distinct for
	 * every distinct pair.
	 * @param namespace the namespace, empty for none
	 * @param key the key
	 * @return the key in the store
	 */
	protected abstract String storeKey(String namespace, String key);

	/**
	 * One attempt to take the lock in the store. Returns a grant, or how long to wait
	 * before the next try when it is held (a wake-up signal for the key ends that wait
	 * early).
	 * @param key the key, as the caller passed it
	 * @param storeKey the key in the store
	 * @param lease the lease to take
	 * @return the grant, or how long to wait before the next try
	 * @throws io.github.userlock.LockUnavailableException when the store does not answer
	 * in time
	 */
	protected abstract Attempt attempt(String key, String storeKey, Duration lease);

	/**
	 * Releases {@code grant} in the store, keeping the key locked for {@code keepFor}
	 * more when that is positive, and calls {@code whenDone} exactly once when the store
	 * has answered (or could not be reached): only then does the next thread of this
	 * process get its turn, so that it cannot overtake the release. When the store says
	 * the lock was no longer ours the engine calls {@link #lostBeforeRelease}. Must not
	 * throw: trouble reaching the store is logged, and the lease ends the lock.
	 * @param grant the grant to release
	 * @param keepFor how much longer the key stays locked, when positive
	 * @param whenDone called once when the release is complete
	 */
	protected abstract void releaseInStore(LockGrant grant, Duration keepFor, ReleaseDone whenDone);

	/** Told by the engine when a release is complete. */
	@FunctionalInterface
	protected interface ReleaseDone {

		/**
		 * The release is complete (or failed); {@code wokeOtherProcesses} says that other
		 * processes waited for the lock and were woken, so that this process's next
		 * thread waits for the same wake-up instead of overtaking them.
		 * @param wokeOtherProcesses whether waiting processes were woken
		 */
		void released(boolean wokeOtherProcesses);

		/**
		 * The release is sent and ordered before any later attempt of this process (the
		 * engine does not wait for the answer): when no thread of this process waits for
		 * the key its turn is freed now, so that a new call from this process need not
		 * wait for the answer. Queued threads still get the turn on
		 * {@link #released(boolean)}.
		 */
		default void sent() {
		}

	}

	/**
	 * Passes a lock that is being released straight to the next thread of this process
	 * that waits for it, without a store round trip ("cohort" hand-off). Returns the
	 * successor's grant, whose fencing token must be greater than {@code grant}'s, or
	 * {@code null} to release in the store instead (the default). Called while the key's
	 * local state is locked: no I/O.
	 * @param grant the grant being released
	 * @param lease the lease of the successor
	 * @return the successor's grant, or {@code null} to release in the store
	 */
	protected @Nullable LockGrant handOff(LockGrant grant, Duration lease) {
		return null;
	}

	/**
	 * Whether a "held by another process" answer of the store may be shared with the
	 * no-wait calls of this process that come after it, until the engine {@link #signal
	 * signals} a release of the key (or all keys), the holder's lease could have run out,
	 * or the retry interval the attempt gave has passed. Only for engines whose releases
	 * signal every process that tried the key; off by default. Such an answer can be
	 * stale only for as long as the release signal takes to arrive.
	 * @return {@code true} when held answers may be shared
	 */
	protected boolean sharesHeldAnswers() {
		return false;
	}

	/**
	 * The outcome of one {@link #attempt}.
	 *
	 * @param grant the grant, or {@code null} when the lock is held
	 * @param retryAfterNanos how long to wait before the next try, in nanoseconds
	 */
	protected record Attempt(@Nullable LockGrant grant, long retryAfterNanos) {

		/**
		 * The lock was taken.
		 * @param grant the grant
		 * @return an attempt with {@code grant}
		 */
		public static Attempt granted(LockGrant grant) {
			return new Attempt(grant, 0);
		}

		/**
		 * The lock is held; the next try comes after at least 1 ns.
		 * @param retryAfterNanos how long to wait before the next try, in nanoseconds
		 * @return an attempt without a grant
		 */
		public static Attempt heldFor(long retryAfterNanos) {
			return new Attempt(null, Math.max(1, retryAfterNanos));
		}

	}

	// ---- API ----

	@Override
	public final LockHandle acquire(LockRequest request) {
		long start = System.nanoTime();
		LockHandle handle = observedAcquire(request, start);
		if (handle == null) {
			throw new LockConflictException(displayKey(request),
					Duration.ofNanos(System.nanoTime() - start).truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
		}
		return handle;
	}

	@Override
	public final Optional<LockHandle> tryAcquire(LockRequest request) {
		return Optional.ofNullable(observedAcquire(request, System.nanoTime()));
	}

	@Override
	public void addListener(LockListener listener) {
		this.events.addListener(Objects.requireNonNull(listener, "listener"));
	}

	/**
	 * Sets the observer told of acquires, holds, losses and renewals (metrics, traces,
	 * logs); {@link LockObserver#NONE} by default.
	 * @param observer the observer
	 */
	public void setObserver(LockObserver observer) {
		this.observer = Objects.requireNonNull(observer, "observer");
	}

	/**
	 * The observer told of this registry's events.
	 * @return the observer
	 */
	protected final LockObserver observer() {
		return this.observer;
	}

	/**
	 * The default wait time of requests that name none.
	 * @return the default wait time
	 */
	public Duration getDefaultWaitTime() {
		return this.defaultWaitTime;
	}

	/**
	 * The default lease time of requests that name none.
	 * @return the default lease time
	 */
	public Duration getDefaultLeaseTime() {
		return this.defaultLeaseTime;
	}

	/**
	 * The longest key accepted, in UTF-8 bytes.
	 * @return the maximum key length in bytes
	 */
	public int getMaxKeyBytes() {
		return this.maxKeyBytes;
	}

	/**
	 * How many keys have local state now (held, or waited for, by a thread of this
	 * process).
	 * @return the number of keys with local state
	 */
	public int localKeyCount() {
		return this.locals.size();
	}

	/**
	 * How many held locks were reported lost (lease ran out or taken over) since start.
	 * @return the number of locks lost while held
	 */
	public long lostWhileHeldCount() {
		return this.lostWhileHeld.get();
	}

	/**
	 * How many releases found the lock no longer theirs since start.
	 * @return the number of locks lost before release
	 */
	public long lostBeforeReleaseCount() {
		return this.lostBeforeRelease.get();
	}

	/**
	 * Stops the event thread after the events already reported (listeners and
	 * lost-callbacks) ran; engines that override it call it.
	 */
	@Override
	public void close() {
		this.events.close();
	}

	// ---- engine support ----

	/**
	 * Wakes the thread of this process that waits in the store for {@code storeKey}, if
	 * any.
	 * @param storeKey the key in the store
	 */
	protected final void signal(String storeKey) {
		this.heldAnswers.released(storeKey);
		LocalKey local = this.locals.get(storeKey);
		if (local != null) {
			local.signal();
		}
	}

	/**
	 * Wakes every waiting thread, e.g. after a reconnect during which release messages
	 * may have been lost.
	 */
	protected final void signalAll() {
		this.heldAnswers.releasedAll();
		this.locals.values().forEach(LocalKey::signal);
	}

	/**
	 * Reports a held lock as lost: logs a WARN with the key, counts it and tells
	 * listeners and handles.
	 * @param grant the grant that was lost
	 * @param reason why it was lost, for the log
	 */
	protected final void lost(LockGrant grant, String reason) {
		if (!grant.markLost()) {
			return;
		}
		this.lostWhileHeld.incrementAndGet();
		this.observer.lockLost(grant, LockObserver.LossPhase.HELD, grant.observerContext());
		logger.warn("Lock '{}' lost while held: {}. The code running under it is no longer protected.", grant.key(),
				reason);
		this.events.lostWhileHeld(grant);
	}

	// ---- internals ----

	private static String displayKey(LockRequest request) {
		return request.namespace().isEmpty() ? String.valueOf(request.key())
				: request.namespace() + ":" + request.key();
	}

	/** {@link #doAcquire} told to the observer: start, outcome and time waited. */
	private @Nullable LockHandle observedAcquire(LockRequest request, long start) {
		LockObserver observer = this.observer;
		Object context = observer.acquireStarted(request);
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
		LockKeys.validate(request.key(), this.maxKeyBytes);
		Duration wait = (request.waitTime() != null) ? request.waitTime() : this.defaultWaitTime;
		Duration lease = (request.leaseTime() != null) ? request.leaseTime() : this.defaultLeaseTime;
		String key = displayKey(request);
		String storeKey = storeKey(request.namespace(), request.key());
		long deadline = start + boundedNanos(wait);
		if (wait.isZero() || wait.isNegative()) {
			if (this.heldAnswers.isHeldElsewhere(storeKey)) {
				return null;
			}
		}
		LocalKey local = retain(storeKey);
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
					return handle = new Handle(local, local.grant, request.key());
				}
			}
			Waiter turn = awaitTurn(local, me, key, lease, deadline);
			if (turn == NO_TURN) {
				return null;
			}
			try {
				LockGrant grant = (turn != null) ? turn.handOff : null;
				if (grant != null && !grant.isValid()) {
					releaseInStore(grant, Duration.ZERO, (woke) -> {
					});
					grant = null;
				}
				if (grant == null) {
					if (turn != null && turn.yieldFrom >= 0) {
						awaitSignal(local, key, turn.yieldFrom,
								Math.min(YIELD_NANOS, Math.max(0, deadline - System.nanoTime())));
						// then a head start for the woken processes, not cut short by a
						// later signal (the next holder may release within it)
						giveWay(key, Math.min(COURTESY_NANOS, Math.max(0, deadline - System.nanoTime())));
					}
					grant = acquireInStore(local, key, storeKey, lease, deadline);
				}
				if (grant == null) {
					passTurn(local, -1);
					return null;
				}
				synchronized (local) {
					local.owner = me;
					local.grant = grant;
					local.holds = 1;
					local.keepUntilNanos = grant.acquiredAtNanos();
				}
				grant.observerContext(this.observer.lockHeld(request, grant));
				return handle = new Handle(local, grant, request.key());
			}
			catch (RuntimeException | Error ex) {
				passTurn(local, -1);
				throw ex;
			}
		}
		finally {
			if (handle == null) {
				unretain(local);
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

	/**
	 * Gives the turn to the next local waiter (who then asks the store), or frees it.
	 * With {@code yieldFrom} at 0 or more, the waiter first waits for a wake-up signal
	 * newer than that version (the release woke other processes).
	 */
	private void passTurn(LocalKey local, long yieldFrom) {
		Waiter next;
		synchronized (local) {
			next = local.queue.poll();
			if (next == null) {
				local.busy = false;
				return;
			}
			next.granted = true;
			next.yieldFrom = yieldFrom;
		}
		LockSupport.unpark(next.thread);
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
			long signals = this.heldAnswers.signals();
			Attempt attempt = attempt(key, storeKey, lease);
			if (attempt.grant() != null) {
				this.heldAnswers.granted(storeKey);
				return attempt.grant();
			}
			shareHeldAnswer(storeKey, attempt.retryAfterNanos(), signals);
			long remaining = deadline - System.nanoTime();
			if (remaining <= 0) {
				return null;
			}
			awaitSignal(local, key, version, Math.min(attempt.retryAfterNanos(), remaining));
		}
	}

	private void release(Handle handle, Duration holdAtLeast) {
		LocalKey local = handle.local;
		LockGrant grant = null;
		long keepUntil = 0;
		Waiter successor = null;
		synchronized (local) {
			if (handle.released) {
				return;
			}
			handle.released = true;
			if (!holdAtLeast.isZero() && !holdAtLeast.isNegative()) {
				local.keepUntilNanos = Math.max(local.keepUntilNanos,
						handle.grant.acquiredAtNanos() + boundedNanos(holdAtLeast));
			}
			if (--local.holds == 0) {
				grant = local.grant;
				keepUntil = local.keepUntilNanos;
				local.owner = null;
				local.grant = null;
				Waiter next = local.queue.peek();
				if (next != null && keepUntil - System.nanoTime() <= 0 && grant.isValid()) {
					LockGrant handed = handOff(grant, next.lease);
					if (handed != null) {
						local.queue.poll();
						next.granted = true;
						next.handOff = handed;
						successor = next;
					}
				}
			}
		}
		if (grant != null) {
			this.observer.lockReleased(grant, grant.observerContext());
		}
		if (grant == null || successor != null) {
			try {
				if (successor != null) {
					LockSupport.unpark(successor.thread);
				}
			}
			finally {
				unretain(local);
			}
			return;
		}
		long versionAtRelease = local.version();
		ReleaseDone whenDone = new ReleaseDone() {

			/**
			 * Set once the turn is passed and the local state let go, by either method.
			 */
			private final AtomicBoolean done = new AtomicBoolean();

			@Override
			public void released(boolean wokeOtherProcesses) {
				if (this.done.compareAndSet(false, true)) {
					try {
						passTurn(local, wokeOtherProcesses ? versionAtRelease : -1);
					}
					finally {
						unretain(local);
					}
				}
			}

			@Override
			public void sent() {
				synchronized (local) {
					if (!local.queue.isEmpty() || !this.done.compareAndSet(false, true)) {
						return;
					}
					local.busy = false;
				}
				unretain(local);
			}

		};
		try {
			Duration keepFor = Duration.ofNanos(Math.max(0, keepUntil - System.nanoTime()));
			releaseInStore(grant, keepFor, whenDone);
		}
		catch (RuntimeException | Error ex) {
			whenDone.released(false);
			throw ex;
		}
	}

	/**
	 * Reports a release that found the lock expired or owned by someone else: WARN,
	 * count, listeners.
	 * @param grant the grant whose release found it lost
	 */
	protected final void lostBeforeRelease(LockGrant grant) {
		boolean newlyLost = grant.markLost();
		this.lostBeforeRelease.incrementAndGet();
		this.observer.lockLost(grant, LockObserver.LossPhase.RELEASE, grant.observerContext());
		logger.warn("Lock '{}' lost before release: its lease had run out or another owner had taken it over. "
				+ "Nothing of the other owner's was deleted.", grant.key());
		this.events.lostBeforeRelease(grant, newlyLost);
	}

	/**
	 * Keeps the store's "held" answer for later no-wait calls when the engine shares
	 * them.
	 */
	private void shareHeldAnswer(String storeKey, long validNanos, long signalsBefore) {
		if (sharesHeldAnswers()) {
			this.heldAnswers.share(storeKey, validNanos, signalsBefore);
		}
	}

	private LocalKey retain(String storeKey) {
		return this.locals.compute(storeKey, (k, existing) -> {
			LocalKey local = (existing != null) ? existing : new LocalKey(k);
			local.users++;
			return local;
		});
	}

	private void unretain(LocalKey local) {
		this.locals.computeIfPresent(local.storeKey, (k, existing) -> (--existing.users == 0) ? null : existing);
	}

	/**
	 * {@code duration} in nanoseconds, at most {@link #LONGEST_NANOS}: added to a
	 * {@code nanoTime} value it never overflows, so {@code deadline - now} stays right (a
	 * saturated {@code Long.MAX_VALUE} deadline would turn into the past when
	 * {@code nanoTime} is negative). Zero for negative durations.
	 */
	static long boundedNanos(Duration duration) {
		if (duration.isNegative()) {
			return 0;
		}
		if (duration.getSeconds() >= LONGEST_NANOS / 1_000_000_000L) {
			return LONGEST_NANOS;
		}
		return Math.min(duration.toNanos(), LONGEST_NANOS);
	}

	private final class Handle implements LockHandle {

		final LocalKey local;

		final LockGrant grant;

		final String key;

		/** Guarded by {@link #local}. */
		boolean released;

		Handle(LocalKey local, LockGrant grant, String key) {
			this.local = local;
			this.grant = grant;
			this.key = key;
		}

		@Override
		public String key() {
			return this.key;
		}

		@Override
		public long fencingToken() {
			return this.grant.fencingToken();
		}

		@Override
		public boolean isHeld() {
			synchronized (this.local) {
				if (this.released) {
					return false;
				}
			}
			return this.grant.isValid();
		}

		@Override
		public void onLost(Consumer<LockHandle> callback) {
			Objects.requireNonNull(callback, "callback");
			this.grant.onLost(() -> callback.accept(this));
		}

		@Override
		public void detachFromThread() {
			synchronized (this.local) {
				if (!this.released && this.local.holds == 1 && this.local.grant == this.grant) {
					this.local.owner = null;
					observer().lockDetached(this.grant, this.grant.observerContext());
				}
			}
		}

		@Override
		public void release() {
			AbstractLockRegistry.this.release(this, Duration.ZERO);
		}

		@Override
		public void release(Duration holdAtLeast) {
			AbstractLockRegistry.this.release(this, Objects.requireNonNull(holdAtLeast, "holdAtLeast"));
		}

		@Override
		public void close() {
			release();
		}

		@Override
		public String toString() {
			return "LockHandle[key=" + this.key + ", token=" + this.grant.fencingToken() + "]";
		}

	}

}
