package io.github.userlock.aop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import io.github.userlock.LockHandle;
import io.github.userlock.LockRegistry;
import io.github.userlock.support.LockCaller;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The locks of one call acquired without blocking: the keys in order, each through
 * {@link LockRegistry#acquireAsync}, all of them within the call's wait time. A failure
 * releases those already held; cancelling {@link #future} cancels the acquisition in
 * flight and releases what is held, and a lock granted after it is released at once.
 */
final class AsyncLocks {

	private static final Logger logger = LoggerFactory.getLogger(AsyncLocks.class);

	final CompletableFuture<List<LockHandle>> future = new CompletableFuture<>();

	private final LockRegistry registry;

	private final LockOperation operation;

	private final List<String> keys;

	private final @Nullable Duration wait;

	private final long start = System.nanoTime();

	/** Guarded by this. */
	private final List<LockHandle> held;

	/** Guarded by this. */
	private @Nullable CompletableFuture<LockHandle> inFlight;

	private AsyncLocks(LockRegistry registry, LockOperation operation, List<String> keys, @Nullable Duration wait) {
		this.registry = registry;
		this.operation = operation;
		this.keys = keys;
		this.wait = wait;
		this.held = new ArrayList<>(keys.size());
	}

	static CompletableFuture<List<LockHandle>> acquire(LockRegistry registry, LockOperation operation,
			List<String> keys, @Nullable Duration wait) {
		AsyncLocks locks = new AsyncLocks(registry, operation, keys, wait);
		locks.future.whenComplete((handles, failure) -> {
			if (failure != null) {
				locks.abandon();
			}
		});
		locks.next(0);
		return locks.future;
	}

	/**
	 * Releases {@code handles} in reverse order, one after the other, without blocking; a
	 * failing release is logged and does not stop the others.
	 */
	static CompletableFuture<Void> releaseAll(List<LockHandle> handles, Duration holdAtLeast) {
		CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
		for (int i = handles.size() - 1; i >= 0; i--) {
			LockHandle handle = handles.get(i);
			chain = chain.thenCompose((done) -> releaseQuietly(handle, holdAtLeast));
		}
		return chain;
	}

	private void next(int index) {
		if (index == this.keys.size()) {
			List<LockHandle> handles;
			synchronized (this) {
				handles = List.copyOf(this.held);
			}
			this.future.complete(handles);
			return;
		}
		Duration remaining = (this.wait != null && index > 0)
				? UserLockInterceptor.maxZero(this.wait.minusNanos(System.nanoTime() - this.start)) : this.wait;
		CompletableFuture<LockHandle> step;
		// observers (the loss WARN) name the method that holds the lock
		java.lang.reflect.Method previous = LockCaller.set(this.operation.method());
		try {
			step = this.registry.acquireAsync(this.operation.request(this.keys.get(index), remaining));
		}
		catch (RuntimeException ex) {
			step = CompletableFuture.failedFuture(ex);
		}
		finally {
			LockCaller.restore(previous);
		}
		boolean given;
		synchronized (this) {
			given = this.future.isDone();
			this.inFlight = step;
		}
		if (given) {
			step.cancel(false);
		}
		step.whenComplete((handle, failure) -> {
			if (failure != null) {
				this.future.completeExceptionally(unwrap(failure));
				return;
			}
			boolean keep;
			synchronized (this) {
				keep = !this.future.isDone();
				if (keep) {
					this.held.add(handle);
				}
			}
			if (!keep) {
				releaseQuietly(handle, Duration.ZERO);
				return;
			}
			next(index + 1);
		});
	}

	/** The call failed or was cancelled: stop acquiring and release what is held. */
	private void abandon() {
		List<LockHandle> toRelease;
		CompletableFuture<LockHandle> step;
		synchronized (this) {
			toRelease = List.copyOf(this.held);
			this.held.clear();
			step = this.inFlight;
		}
		if (step != null) {
			step.cancel(false);
		}
		releaseAll(toRelease, Duration.ZERO);
	}

	private static CompletableFuture<Void> releaseQuietly(LockHandle handle, Duration holdAtLeast) {
		try {
			return handle.releaseAsync(holdAtLeast).exceptionally((failure) -> {
				logger.warn("Releasing lock '{}' failed; its lease will end it", handle.key(), failure);
				return null;
			});
		}
		catch (RuntimeException | Error ex) {
			// an Error too (e.g. a blocking call refused by BlockHound): the other
			// releases still run
			logger.warn("Releasing lock '{}' failed; its lease will end it", handle.key(), ex);
			return CompletableFuture.completedFuture(null);
		}
	}

	private static Throwable unwrap(Throwable failure) {
		return (failure instanceof CompletionException && failure.getCause() != null) ? failure.getCause() : failure;
	}

}
