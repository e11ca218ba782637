package io.github.userlock.support;

import java.lang.reflect.Method;
import java.util.concurrent.TimeUnit;

import io.github.userlock.LockRequest;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs each acquire (with its outcome and the time waited) and each release (with the
 * time held) at DEBUG, and a lost lock held by a {@code @UserLock} method at WARN with
 * the key and the method (the registry's own WARN of the loss names no method), under
 * {@code io.github.userlock.support.LoggingLockObserver}. Never logs an owner token.
 */
public final class LoggingLockObserver implements LockObserver {

	private static final Logger logger = LoggerFactory.getLogger(LoggingLockObserver.class);

	/**
	 * An observer that logs to {@code io.github.userlock.support.LoggingLockObserver}.
	 */
	public LoggingLockObserver() {
	}

	@Override
	public void acquireFinished(LockRequest request, AcquireOutcome outcome, long waitNanos,
			@Nullable Throwable failure, @Nullable Object context) {
		if (!logger.isDebugEnabled()) {
			return;
		}
		String key = request.namespace().isEmpty() ? request.key() : request.namespace() + ":" + request.key();
		long waited = TimeUnit.NANOSECONDS.toMillis(waitNanos);
		if (outcome == AcquireOutcome.ACQUIRED) {
			logger.debug("Lock '{}' acquired after waiting {} ms", key, waited);
		}
		else {
			logger.debug("Lock '{}' not acquired ({}) after waiting {} ms{}", key, outcome.value(), waited,
					(failure != null && outcome != AcquireOutcome.CONFLICT) ? ": " + failure.getMessage() : "");
		}
	}

	/** Keeps the {@code @UserLock} method that took the lock, if any. */
	@Override
	public @Nullable Object lockHeld(LockRequest request, LockGrant grant) {
		return LockCaller.current();
	}

	@Override
	public void lockLost(LockGrant grant, LossPhase phase, @Nullable Object context) {
		if (context instanceof Method method) {
			logger.warn("Lock '{}' held by {} {}: its work may have overlapped another holder's", grant.key(),
					LockCaller.describe(method),
					(phase == LossPhase.HELD) ? "was lost while the method ran (lease ran out or taken over)"
							: "was found lost at its release");
		}
	}

	@Override
	public void lockReleased(LockGrant grant, @Nullable Object context) {
		if (logger.isDebugEnabled()) {
			logger.debug("Lock '{}' released after holding it {} ms (fencing token {})", grant.key(),
					TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - grant.acquiredAtNanos()), grant.fencingToken());
		}
	}

}
