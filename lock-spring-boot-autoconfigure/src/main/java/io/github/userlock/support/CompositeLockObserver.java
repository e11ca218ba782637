package io.github.userlock.support;

import java.util.List;

import io.github.userlock.LockRequest;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls several observers in turn. Its context is an array holding each observer's own
 * context, so that each gets back what it returned.
 */
final class CompositeLockObserver implements LockObserver {

	private static final Logger logger = LoggerFactory.getLogger(CompositeLockObserver.class);

	private final LockObserver[] observers;

	CompositeLockObserver(List<? extends LockObserver> observers) {
		this.observers = observers.toArray(new LockObserver[0]);
	}

	@Override
	public @Nullable Object acquireStarted(LockRequest request) {
		@Nullable Object[] contexts = new Object[this.observers.length];
		for (int i = 0; i < this.observers.length; i++) {
			try {
				contexts[i] = this.observers[i].acquireStarted(request);
			}
			catch (RuntimeException ex) {
				failed(ex);
			}
		}
		return contexts;
	}

	@Override
	public void acquireFinished(LockRequest request, AcquireOutcome outcome, long waitNanos,
			@Nullable Throwable failure, @Nullable Object context) {
		for (int i = 0; i < this.observers.length; i++) {
			try {
				this.observers[i].acquireFinished(request, outcome, waitNanos, failure, contextOf(context, i));
			}
			catch (RuntimeException ex) {
				failed(ex);
			}
		}
	}

	@Override
	public @Nullable Object lockHeld(LockRequest request, LockGrant grant) {
		@Nullable Object[] contexts = new Object[this.observers.length];
		for (int i = 0; i < this.observers.length; i++) {
			try {
				contexts[i] = this.observers[i].lockHeld(request, grant);
			}
			catch (RuntimeException ex) {
				failed(ex);
			}
		}
		return contexts;
	}

	@Override
	public void lockDetached(LockGrant grant, @Nullable Object context) {
		for (int i = 0; i < this.observers.length; i++) {
			try {
				this.observers[i].lockDetached(grant, contextOf(context, i));
			}
			catch (RuntimeException ex) {
				failed(ex);
			}
		}
	}

	@Override
	public void lockReleased(LockGrant grant, @Nullable Object context) {
		for (int i = 0; i < this.observers.length; i++) {
			try {
				this.observers[i].lockReleased(grant, contextOf(context, i));
			}
			catch (RuntimeException ex) {
				failed(ex);
			}
		}
	}

	@Override
	public void lockLost(LockGrant grant, LossPhase phase, @Nullable Object context) {
		for (int i = 0; i < this.observers.length; i++) {
			try {
				this.observers[i].lockLost(grant, phase, contextOf(context, i));
			}
			catch (RuntimeException ex) {
				failed(ex);
			}
		}
	}

	@Override
	public void renewalCall(int locks) {
		for (LockObserver observer : this.observers) {
			try {
				observer.renewalCall(locks);
			}
			catch (RuntimeException ex) {
				failed(ex);
			}
		}
	}

	@Override
	public void renewals(RenewalOutcome outcome, int locks) {
		for (LockObserver observer : this.observers) {
			try {
				observer.renewals(outcome, locks);
			}
			catch (RuntimeException ex) {
				failed(ex);
			}
		}
	}

	private static @Nullable Object contextOf(@Nullable Object context, int index) {
		return (context instanceof Object[] contexts && index < contexts.length) ? contexts[index] : null;
	}

	private static void failed(RuntimeException ex) {
		logger.warn("LockObserver failed", ex);
	}

}
