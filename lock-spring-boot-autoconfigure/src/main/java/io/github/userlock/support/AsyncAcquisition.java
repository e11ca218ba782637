package io.github.userlock.support;

import java.lang.reflect.Method;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockHandle;
import io.github.userlock.LockRequest;
import io.github.userlock.LockUnavailableException;
import org.jspecify.annotations.Nullable;

/**
 * One asynchronous acquire of {@link AbstractLockRegistry}: the same steps as the
 * blocking one (its turn in the key's local queue, then tries in the store until the lock
 * is granted or the wait time runs out), with no thread parked. Each step runs when what
 * it waits for arrives: the turn (passed on the timer thread), the store's answer (on the
 * driver's thread), the key's wake-up signal or a timer.
 *
 * <p>
 * The future may be completed by someone else at any time (cancelled, or failed by
 * {@link AbstractLockRegistry#close()}): a queued acquisition then leaves the queue, a
 * waiting one stops waiting, and one whose attempt is in flight releases the grant that
 * arrives and passes its turn on. Nothing stays held for a caller that gave up.
 *
 * @param <T> {@link LockHandle}, or {@code Optional<LockHandle>} for a try
 */
final class AsyncAcquisition<T> {

	private static final org.slf4j.Logger logger = org.slf4j.LoggerFactory.getLogger(AsyncAcquisition.class);

	final CompletableFuture<T> future = new CompletableFuture<>();

	private final AbstractLockRegistry registry;

	private final LockRequest request;

	/** Whether a conflict completes with an empty {@code Optional} (else it fails). */
	private final boolean optional;

	/** When the wait started: once the observer had started (see BlockingAcquisition). */
	private long start;

	/** The annotated method acquiring, if any, for the observers (named in the logs). */
	private final @Nullable Method caller = LockCaller.current();

	private final AtomicBoolean finished = new AtomicBoolean();

	private @Nullable Object observerContext;

	private String key = "";

	private String storeKey = "";

	private Duration lease = Duration.ZERO;

	private long deadline;

	private @Nullable LocalKey local;

	/** Our place in the key's queue while we wait for the turn; guarded by local. */
	private @Nullable Waiter waiter;

	/** What ends the current wait early when the caller gives up. */
	private volatile @Nullable Runnable pendingWake;

	/** The wait-time deadline while queued for the turn. */
	private volatile @Nullable ScheduledFuture<?> queueTimer;

	private AsyncAcquisition(AbstractLockRegistry registry, LockRequest request, boolean optional) {
		this.registry = registry;
		this.request = request;
		this.optional = optional;
	}

	static AsyncAcquisition<LockHandle> throwingOnConflict(AbstractLockRegistry registry, LockRequest request) {
		return new AsyncAcquisition<>(registry, Objects.requireNonNull(request, "request"), false);
	}

	static AsyncAcquisition<Optional<LockHandle>> emptyOnConflict(AbstractLockRegistry registry, LockRequest request) {
		return new AsyncAcquisition<>(registry, Objects.requireNonNull(request, "request"), true);
	}

	String key() {
		return this.key;
	}

	void start() {
		this.observerContext = this.registry.observer().acquireStarted(this.request);
		this.start = System.nanoTime();
		Duration wait;
		try {
			LockKeys.validate(this.request.key(), this.registry.getMaxKeyBytes());
			wait = (this.request.waitTime() != null) ? this.request.waitTime() : this.registry.getDefaultWaitTime();
			this.lease = (this.request.leaseTime() != null) ? this.request.leaseTime()
					: this.registry.getDefaultLeaseTime();
			this.key = AbstractLockRegistry.displayKey(this.request);
			this.storeKey = this.registry.storeKey(this.request.namespace(), this.request.key());
			this.deadline = this.start + AbstractLockRegistry.boundedNanos(wait);
		}
		catch (RuntimeException ex) {
			fail(ex);
			return;
		}
		if ((wait.isZero() || wait.isNegative()) && this.registry.heldAnswers.isHeldElsewhere(this.storeKey)) {
			conflict();
			return;
		}
		LocalKey local = this.registry.retain(this.storeKey);
		this.local = local;
		boolean turn = false;
		boolean late = false;
		synchronized (local) {
			if (!local.busy) {
				local.busy = true;
				turn = true;
			}
			else if (this.deadline - System.nanoTime() <= 0) {
				late = true;
			}
			else {
				this.waiter = new Waiter(this, this.lease);
				local.queue.add(this.waiter);
			}
		}
		this.registry.pendingAsync(this);
		this.future.whenComplete((result, failure) -> {
			this.registry.doneAsync(this);
			abandonIfWaiting();
		});
		if (turn) {
			tryStore();
		}
		else if (late) {
			this.registry.unretain(local);
			conflict();
		}
		else {
			this.queueTimer = this.registry.asyncTimer()
				.schedule(this::deadlineInQueue, this.deadline - System.nanoTime());
		}
	}

	/**
	 * The turn came (on the timer thread): with a lock handed over, or to ask the store.
	 */
	void onTurn(@Nullable LockGrant handOff, long yieldFrom) {
		cancelTimer();
		LockGrant grant = handOff;
		if (grant != null && !grant.isValid()) {
			this.registry.releaseInStoreAsync(grant, Duration.ZERO, (woke) -> {
			});
			grant = null;
		}
		if (grant != null) {
			granted(grant);
			return;
		}
		if (this.future.isDone()) {
			giveUpTurn();
			return;
		}
		if (yieldFrom >= 0) {
			// as the blocking acquire: let the processes this release woke go first
			waitFor(yieldFrom, Math.min(AbstractLockRegistry.YIELD_NANOS, left()),
					() -> waitFor(-1, Math.min(AbstractLockRegistry.COURTESY_NANOS, left()), this::tryStore));
			return;
		}
		tryStore();
	}

	/**
	 * A step failed unexpectedly (a bug, or a blocking call refused by a tool such as
	 * BlockHound): logged, and the caller told, rather than left waiting.
	 */
	void unexpected(Throwable failure) {
		logger.warn("Asynchronous acquisition of lock '{}' failed unexpectedly", this.key, failure);
		if (!this.future.isDone()) {
			failWithTurn(failure);
		}
	}

	/** Closes the acquisition because the registry closes. */
	void registryClosed() {
		this.future.completeExceptionally(new LockUnavailableException(this.key, "The lock registry is closed", null));
	}

	private void tryStore() {
		if (this.future.isDone()) {
			giveUpTurn();
			return;
		}
		LocalKey local = Objects.requireNonNull(this.local);
		long version = local.version();
		long signals = this.registry.heldAnswers.signals();
		CompletableFuture<AbstractLockRegistry.Attempt> attempt;
		try {
			attempt = this.registry.attemptAsync(this.key, this.storeKey, this.lease);
		}
		catch (RuntimeException ex) {
			failWithTurn(ex);
			return;
		}
		attempt.whenComplete((outcome, failure) -> {
			try {
				answered(outcome, failure, version, signals);
			}
			catch (RuntimeException | Error ex) {
				unexpected(ex);
			}
		});
	}

	private void answered(AbstractLockRegistry.@Nullable Attempt attempt, @Nullable Throwable failure, long version,
			long signals) {
		if (failure != null || attempt == null) {
			failWithTurn(unwrap(failure));
			return;
		}
		LockGrant grant = attempt.grant();
		if (grant != null) {
			this.registry.heldAnswers.granted(this.storeKey);
			granted(grant);
			return;
		}
		this.registry.shareHeldAnswer(this.storeKey, attempt.retryAfterNanos(), signals);
		long remaining = this.deadline - System.nanoTime();
		if (remaining <= 0) {
			passTurn();
			conflict();
			return;
		}
		if (this.future.isDone()) {
			giveUpTurn();
			return;
		}
		waitFor(version, Math.min(attempt.retryAfterNanos(), remaining), this::tryStore);
	}

	private void granted(LockGrant grant) {
		LocalKey local = Objects.requireNonNull(this.local);
		synchronized (local) {
			// held by no thread: never re-entered
			local.owner = null;
			local.grant = grant;
			local.holds = 1;
			local.keepUntilNanos = grant.acquiredAtNanos();
		}
		java.lang.reflect.Method previous = LockCaller.set(this.caller);
		try {
			grant.observerContext(this.registry.observer().lockHeld(this.request, grant));
		}
		finally {
			LockCaller.restore(previous);
		}
		LocalHandle handle = new LocalHandle(this.registry, local, grant, this.request.key());
		this.pendingWake = null;
		if (this.future.isDone()) {
			finish(gaveUp());
			handle.releaseAsync();
			return;
		}
		finish(null);
		@SuppressWarnings("unchecked")
		T result = (T) (this.optional ? Optional.of(handle) : handle);
		if (!this.future.complete(result)) {
			// the caller gave up in the meantime
			handle.releaseAsync();
		}
	}

	/**
	 * Waits for a signal newer than {@code version} (none when negative) or
	 * {@code nanos}, whichever comes first, then runs {@code next} on the timer thread.
	 */
	private void waitFor(long version, long nanos, Runnable next) {
		LocalKey local = Objects.requireNonNull(this.local);
		AtomicBoolean fired = new AtomicBoolean();
		// this wait's own timer: once fired, the next step may already run a wait of its
		// own, whose timer must not be cancelled by this one
		AtomicReference<@Nullable ScheduledFuture<?>> ownTimer = new AtomicReference<>();
		Runnable[] self = new Runnable[1];
		Runnable wake = () -> {
			if (fired.compareAndSet(false, true)) {
				this.pendingWake = null;
				cancel(ownTimer.get());
				local.unwatch(self[0]);
				this.registry.asyncTimer().execute(next);
			}
		};
		self[0] = wake;
		this.pendingWake = wake;
		if (version >= 0 && !local.watch(version, wake)) {
			wake.run();
			return;
		}
		ownTimer.set(this.registry.asyncTimer().schedule(wake, nanos));
		if (fired.get()) {
			cancel(ownTimer.get());
		}
		if (this.future.isDone()) {
			// given up while the wait was set up
			wake.run();
		}
	}

	private void deadlineInQueue() {
		if (leaveQueue()) {
			this.registry.unretain(Objects.requireNonNull(this.local));
			conflict();
		}
	}

	/** Called on every completion of the future: undoes a wait the caller gave up on. */
	private void abandonIfWaiting() {
		if (leaveQueue()) {
			cancelTimer();
			this.registry.unretain(Objects.requireNonNull(this.local));
			finish(gaveUp());
			return;
		}
		Runnable wake = this.pendingWake;
		if (wake != null) {
			wake.run();
		}
	}

	private boolean leaveQueue() {
		LocalKey local = this.local;
		if (local == null) {
			return false;
		}
		synchronized (local) {
			Waiter queued = this.waiter;
			if (queued != null && !queued.granted && local.queue.remove(queued)) {
				this.waiter = null;
				return true;
			}
			return false;
		}
	}

	private void cancelTimer() {
		cancel(this.queueTimer);
	}

	private static void cancel(@Nullable ScheduledFuture<?> timer) {
		if (timer != null) {
			timer.cancel(false);
		}
	}

	private void passTurn() {
		LocalKey local = Objects.requireNonNull(this.local);
		try {
			this.registry.passTurn(local, -1);
		}
		finally {
			this.registry.unretain(local);
		}
	}

	private void giveUpTurn() {
		passTurn();
		finish(gaveUp());
	}

	private void failWithTurn(Throwable failure) {
		passTurn();
		fail(failure);
	}

	private void fail(Throwable failure) {
		finish(failure);
		this.future.completeExceptionally(failure);
	}

	private void conflict() {
		LockConflictException conflict = new LockConflictException(this.key,
				Duration.ofNanos(System.nanoTime() - this.start).truncatedTo(ChronoUnit.MILLIS));
		finish(conflict);
		if (this.optional) {
			this.future.complete(emptyResult());
		}
		else {
			this.future.completeExceptionally(conflict);
		}
	}

	@SuppressWarnings("unchecked")
	private T emptyResult() {
		return (T) Optional.empty();
	}

	/** Why the caller gave up: the failure the future was completed with by others. */
	private Throwable gaveUp() {
		try {
			this.future.getNow(null);
			return new CancellationException("The acquisition was completed by its caller");
		}
		catch (CancellationException ex) {
			return ex;
		}
		catch (CompletionException ex) {
			return unwrap(ex);
		}
	}

	/** Tells the observer the outcome, once: {@code null} for acquired. */
	private void finish(@Nullable Throwable failure) {
		if (!this.finished.compareAndSet(false, true)) {
			return;
		}
		LockObserver.AcquireOutcome outcome = (failure == null) ? LockObserver.AcquireOutcome.ACQUIRED
				: (failure instanceof CancellationException) ? LockObserver.AcquireOutcome.INTERRUPTED
						: LockObserver.AcquireOutcome.of(failure);
		this.registry.observer()
			.acquireFinished(this.request, outcome, System.nanoTime() - this.start,
					(outcome == LockObserver.AcquireOutcome.CONFLICT) ? null : failure, this.observerContext);
	}

	private long left() {
		return Math.max(0, this.deadline - System.nanoTime());
	}

	private static Throwable unwrap(@Nullable Throwable failure) {
		if (failure == null) {
			return new IllegalStateException("The store gave no answer");
		}
		return (failure instanceof CompletionException && failure.getCause() != null) ? failure.getCause() : failure;
	}

}
