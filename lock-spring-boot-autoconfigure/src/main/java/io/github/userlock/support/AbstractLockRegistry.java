package io.github.userlock.support;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockHandle;
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

	/**
	 * The longest a thread given the turn after a release that woke other processes waits
	 * for that same wake-up before trying, so that it does not overtake them.
	 */
	static final long YIELD_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

	/**
	 * After that wake-up, how long the thread still lets the woken processes go first:
	 * they need a moment to wake up, while this thread is already running, and without it
	 * the releasing process tends to win again (measured: one of 4 instances down to 10%
	 * of a hot key's acquisitions, against 18% or more with it).
	 */
	static final long COURTESY_NANOS = TimeUnit.MICROSECONDS.toNanos(500);

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
	final HeldAnswers heldAnswers = new HeldAnswers();

	private final BlockingAcquisition blocking = new BlockingAcquisition(this);

	private final HandleRelease releasing = new HandleRelease(this);

	/** Drives asynchronous acquisitions: created on first use. */
	private final AsyncTimer asyncTimer = new AsyncTimer();

	/** Asynchronous acquisitions not completed yet, failed by {@link #close()}. */
	private final Set<AsyncAcquisition<?>> pendingAsync = ConcurrentHashMap.newKeySet();

	private volatile boolean closing;

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

	/**
	 * {@link #attempt} without blocking: the future completes with the outcome, or
	 * exceptionally with {@link io.github.userlock.LockUnavailableException} within the
	 * engine's command timeout. An attempt whose grant arrives after the caller gave up
	 * is released by the registry; one the engine gives up on itself (its timeout) the
	 * engine undoes. The default runs {@link #attempt} on the calling thread, for engines
	 * whose attempt does not block.
	 * @param key the key, as the caller passed it
	 * @param storeKey the key in the store
	 * @param lease the lease to take
	 * @return the future outcome
	 */
	protected CompletableFuture<Attempt> attemptAsync(String key, String storeKey, Duration lease) {
		try {
			return CompletableFuture.completedFuture(attempt(key, storeKey, lease));
		}
		catch (RuntimeException ex) {
			return CompletableFuture.failedFuture(ex);
		}
	}

	/**
	 * {@link #releaseInStore} without blocking the calling thread: {@code whenDone} is
	 * called when the store answered (or could not be reached in time). The default calls
	 * {@link #releaseInStore}, for engines whose release does not block.
	 * @param grant the grant to release
	 * @param keepFor how much longer the key stays locked, when positive
	 * @param whenDone called once when the release is complete
	 */
	protected void releaseInStoreAsync(LockGrant grant, Duration keepFor, ReleaseDone whenDone) {
		releaseInStore(grant, keepFor, whenDone);
	}

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
		LockHandle handle = this.blocking.acquire(request);
		if (handle == null) {
			throw new LockConflictException(displayKey(request),
					Duration.ofNanos(System.nanoTime() - start).truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
		}
		return handle;
	}

	@Override
	public final Optional<LockHandle> tryAcquire(LockRequest request) {
		return Optional.ofNullable(this.blocking.acquire(request));
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * Waiting is driven by the store's wake-up signals and a timer thread
	 * ({@code user-lock-timer}, started on first use); no thread is parked.
	 */
	@Override
	public final CompletableFuture<LockHandle> acquireAsync(LockRequest request) {
		AsyncAcquisition<LockHandle> acquisition = AsyncAcquisition.throwingOnConflict(this, request);
		acquisition.start();
		return acquisition.future;
	}

	/**
	 * {@inheritDoc}
	 * <p>
	 * Waiting is driven by the store's wake-up signals and a timer thread
	 * ({@code user-lock-timer}, started on first use); no thread is parked.
	 */
	@Override
	public final CompletableFuture<Optional<LockHandle>> tryAcquireAsync(LockRequest request) {
		AsyncAcquisition<Optional<LockHandle>> acquisition = AsyncAcquisition.emptyOnConflict(this, request);
		acquisition.start();
		return acquisition.future;
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
		this.closing = true;
		this.pendingAsync.forEach(AsyncAcquisition::registryClosed);
		this.asyncTimer.close();
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

	static String displayKey(LockRequest request) {
		return request.namespace().isEmpty() ? String.valueOf(request.key())
				: request.namespace() + ":" + request.key();
	}

	/**
	 * Gives the turn to the next local waiter (who then asks the store), or frees it.
	 * With {@code yieldFrom} at 0 or more, the waiter first waits for a wake-up signal
	 * newer than that version (the release woke other processes).
	 */
	final void passTurn(LocalKey local, long yieldFrom) {
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
		wake(next);
	}

	/**
	 * Tells a waiter that it has the turn: unparks its thread, or continues an
	 * asynchronous acquisition on the timer thread (never inline, so that a chain of
	 * releases and acquisitions does not grow the releasing thread's stack).
	 */
	final void wake(Waiter waiter) {
		if (waiter.thread != null) {
			LockSupport.unpark(waiter.thread);
			return;
		}
		AsyncAcquisition<?> acquisition = Objects.requireNonNull(waiter.async);
		LockGrant handOff = waiter.handOff;
		long yieldFrom = waiter.yieldFrom;
		this.asyncTimer.execute(() -> {
			try {
				acquisition.onTurn(handOff, yieldFrom);
			}
			catch (RuntimeException | Error ex) {
				acquisition.unexpected(ex);
			}
		});
	}

	final void pendingAsync(AsyncAcquisition<?> acquisition) {
		this.pendingAsync.add(acquisition);
		if (this.closing) {
			acquisition.registryClosed();
		}
	}

	final void doneAsync(AsyncAcquisition<?> acquisition) {
		this.pendingAsync.remove(acquisition);
	}

	/** The timer of asynchronous acquisitions. */
	final AsyncTimer asyncTimer() {
		return this.asyncTimer;
	}

	/**
	 * Schedules {@code task} on the registry's timer thread ({@code user-lock-timer}),
	 * the one that drives asynchronous acquisitions: for engines that bound an
	 * asynchronous call in time. The task must not block.
	 * @param task what to run
	 * @param delayNanos after how long, in nanoseconds
	 * @return the scheduled task, to cancel
	 */
	protected final ScheduledFuture<?> schedule(Runnable task, long delayNanos) {
		return this.asyncTimer.schedule(task, delayNanos);
	}

	/**
	 * Releases {@code handle} ({@link HandleRelease}). With {@code completion}, nothing
	 * blocks and it completes when the release is complete; without it the calling thread
	 * waits as the engine's blocking release does.
	 */
	final void release(LocalHandle handle, Duration holdAtLeast, @Nullable CompletableFuture<Void> completion) {
		this.releasing.release(handle, holdAtLeast, completion);
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
	final void shareHeldAnswer(String storeKey, long validNanos, long signalsBefore) {
		if (sharesHeldAnswers()) {
			this.heldAnswers.share(storeKey, validNanos, signalsBefore);
		}
	}

	final LocalKey retain(String storeKey) {
		return this.locals.compute(storeKey, (k, existing) -> {
			LocalKey local = (existing != null) ? existing : new LocalKey(k);
			local.users++;
			return local;
		});
	}

	final void unretain(LocalKey local) {
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

}
