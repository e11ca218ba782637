package io.github.userlock.support;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thread that drives asynchronous acquisitions ({@code user-lock-timer}): their
 * timeouts, rechecks and turns. Started on first use, so that a registry used only
 * through the blocking API has no such thread. Tasks must not block; a task that throws
 * is logged and the thread goes on. Once closed, tasks run on the calling thread (they
 * then find the registry closed).
 */
final class AsyncTimer {

	private static final Logger logger = LoggerFactory.getLogger(AsyncTimer.class);

	private final Object monitor = new Object();

	private volatile @Nullable ScheduledThreadPoolExecutor executor;

	private volatile boolean closed;

	void execute(Runnable task) {
		ScheduledThreadPoolExecutor current = executor();
		if (current != null) {
			try {
				current.execute(() -> runLogged(task));
				return;
			}
			catch (RejectedExecutionException ex) {
				// closed meanwhile
			}
		}
		runLogged(task);
	}

	ScheduledFuture<?> schedule(Runnable task, long delayNanos) {
		ScheduledThreadPoolExecutor current = executor();
		if (current != null) {
			try {
				return current.schedule(() -> runLogged(task), Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
			}
			catch (RejectedExecutionException ex) {
				// closed meanwhile
			}
		}
		runLogged(task);
		return Done.INSTANCE;
	}

	void close() {
		synchronized (this.monitor) {
			this.closed = true;
			ScheduledThreadPoolExecutor current = this.executor;
			if (current != null) {
				current.shutdownNow();
			}
		}
	}

	private @Nullable ScheduledThreadPoolExecutor executor() {
		ScheduledThreadPoolExecutor current = this.executor;
		if (current != null || this.closed) {
			return current;
		}
		synchronized (this.monitor) {
			if (this.executor == null && !this.closed) {
				ScheduledThreadPoolExecutor created = new ScheduledThreadPoolExecutor(1, (runnable) -> {
					Thread thread = new Thread(runnable, "user-lock-timer");
					thread.setDaemon(true);
					return thread;
				});
				// a cancelled timeout (the usual case) leaves the queue at once
				created.setRemoveOnCancelPolicy(true);
				this.executor = created;
			}
			return this.executor;
		}
	}

	private static void runLogged(Runnable task) {
		try {
			task.run();
		}
		catch (RuntimeException | Error ex) {
			logger.warn("A task of an asynchronous lock acquisition failed", ex);
		}
	}

	/** What {@link #schedule} returns for a task it ran at once. */
	private static final class Done extends CompletableFuture<Void> implements ScheduledFuture<Void> {

		static final Done INSTANCE = new Done();

		private Done() {
			complete(null);
		}

		@Override
		public long getDelay(TimeUnit unit) {
			return 0;
		}

		@Override
		public int compareTo(java.util.concurrent.Delayed other) {
			return Long.compare(0, other.getDelay(TimeUnit.NANOSECONDS));
		}

	}

}
