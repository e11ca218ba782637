package io.github.userlock.redis;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulConnection;
import org.jspecify.annotations.Nullable;

/**
 * Writes the registry's commands to its command connection, several to one write while an
 * answer someone waits for is in flight ("group commit").
 *
 * <p>
 * With nothing awaited in flight a command is written at once, so a lone caller pays one
 * round trip and no delay. While an awaited batch is in flight, new commands are buffered
 * and written together when its answer arrives (on the connection's I/O thread): many
 * threads then share one write, one read and one wake-up of Redis instead of one each,
 * which is what bounds throughput on a busy machine. Commands stay in order on the one
 * connection, so a release is still ahead of any later acquire.
 *
 * <p>
 * A batch whose answer does not come (disconnected, Redis paused) holds the buffer back
 * for at most {@link #STALE_AFTER}: the next command after that writes everything itself,
 * and a timer does so when no command comes, so progress never depends on an answer that
 * may be lost or on later traffic (a release buffered while the connection was down is
 * written when it comes back, see {@link #flushAll()}). Cluster connections are not
 * batched: a slow node must not hold back commands for the others.
 */
final class CommandPipeline {

	/**
	 * How long an unanswered batch may hold the buffer back before the next command
	 * writes anyway.
	 */
	static final long STALE_AFTER = TimeUnit.MILLISECONDS.toNanos(10);

	/** An awaited batch is written and not answered yet. */
	private static final int IN_FLIGHT = 1;

	/** Commands are buffered behind it. */
	private static final int BUFFERED = 2;

	/** At least one of them is awaited by a caller. */
	private static final int BUFFERED_AWAITED = 4;

	private final StatefulConnection<String, String> connection;

	private final boolean batching;

	private final long staleNanos;

	private final LongSupplier clock;

	private final @Nullable ScheduledExecutorService timer;

	/** Whether a stale-buffer check is scheduled. */
	private final AtomicBoolean checkScheduled = new AtomicBoolean();

	/**
	 * IN_FLIGHT, BUFFERED, BUFFERED_AWAITED; changed by compare-and-set only, no lock on
	 * the callers' path.
	 */
	private final AtomicInteger state = new AtomicInteger();

	private volatile long inFlightSince;

	/**
	 * The command that ends the batch in flight: once it is answered nothing is in flight
	 * any more, even before {@link #answered} ran (it runs after the callers' own
	 * completions, which may already send again).
	 */
	private volatile @Nullable CompletableFuture<?> inFlightEnd;

	/**
	 * The command buffered last: the end of the next batch (set after it is buffered, so
	 * that a flush that reads it writes it).
	 */
	private volatile @Nullable CompletableFuture<?> last;

	CommandPipeline(StatefulConnection<String, String> connection, boolean batching,
			@Nullable ScheduledExecutorService timer) {
		this(connection, batching, STALE_AFTER, System::nanoTime, timer);
	}

	CommandPipeline(StatefulConnection<String, String> connection, boolean batching, long staleNanos,
			LongSupplier clock, @Nullable ScheduledExecutorService timer) {
		this.connection = connection;
		this.batching = batching;
		this.staleNanos = staleNanos;
		this.clock = clock;
		this.timer = timer;
		if (batching) {
			connection.setAutoFlushCommands(false);
		}
	}

	/**
	 * Buffers the command {@code dispatch} issues and writes it now or with the batch in
	 * flight. {@code awaited}: a caller waits for the answer (an acquire), so later
	 * commands may wait for it too; commands nobody waits for (a release not awaited, a
	 * renewal) never hold others back.
	 */
	<T> CompletableFuture<T> send(Supplier<RedisFuture<T>> dispatch, boolean awaited) {
		if (!this.batching) {
			return dispatch.get().toCompletableFuture();
		}
		CompletableFuture<T> sent = dispatch.get().toCompletableFuture();
		this.last = sent;
		for (;;) {
			int current = this.state.get();
			long now = this.clock.getAsLong();
			CompletableFuture<?> end = this.inFlightEnd;
			if ((current & IN_FLIGHT) != 0 && now - this.inFlightSince < this.staleNanos
					&& (end == null || !end.isDone())) {
				int next = current | BUFFERED | (awaited ? BUFFERED_AWAITED : 0);
				if (current == next || this.state.compareAndSet(current, next)) {
					scheduleStaleCheck();
					return sent;
				}
			}
			else {
				int next = (awaited || (current & BUFFERED_AWAITED) != 0) ? IN_FLIGHT : 0;
				if (this.state.compareAndSet(current, next)) {
					this.inFlightSince = now;
					if (next == IN_FLIGHT) {
						this.inFlightEnd = sent;
					}
					this.connection.flushCommands();
					if (next == IN_FLIGHT) {
						// this command ends the batch just written
						sent.whenComplete((result, failure) -> answered(sent));
					}
					return sent;
				}
			}
		}
	}

	/**
	 * Writes everything buffered now, whatever is in flight: when the connection came
	 * back (what was buffered while it was down would otherwise wait for the answer of a
	 * batch the driver may never re-send) and when a buffer turned stale.
	 */
	void flushAll() {
		if (!this.batching) {
			this.connection.flushCommands();
			return;
		}
		for (;;) {
			int current = this.state.get();
			int next = ((current & BUFFERED_AWAITED) != 0) ? IN_FLIGHT : (current & IN_FLIGHT);
			if (this.state.compareAndSet(current, next)) {
				CompletableFuture<?> end = this.last;
				if ((current & BUFFERED) != 0) {
					this.inFlightSince = this.clock.getAsLong();
				}
				if ((current & BUFFERED_AWAITED) != 0 && end != null) {
					this.inFlightEnd = end;
				}
				this.connection.flushCommands();
				if ((current & BUFFERED_AWAITED) != 0 && end != null) {
					end.whenComplete((result, failure) -> answered(end));
				}
				return;
			}
		}
	}

	/**
	 * Makes sure a buffer held back by a batch that is not answered is written once that
	 * batch is stale, even if no other command comes. One check at a time.
	 */
	private void scheduleStaleCheck() {
		ScheduledExecutorService scheduler = this.timer;
		if (scheduler == null || !this.checkScheduled.compareAndSet(false, true)) {
			return;
		}
		long delay = Math.max(0, this.inFlightSince + this.staleNanos - this.clock.getAsLong());
		try {
			scheduler.schedule(this::checkStale, delay, TimeUnit.NANOSECONDS);
		}
		catch (RejectedExecutionException ex) {
			this.checkScheduled.set(false);
		}
	}

	private void checkStale() {
		this.checkScheduled.set(false);
		int current = this.state.get();
		if ((current & BUFFERED) == 0) {
			return;
		}
		if (this.clock.getAsLong() - this.inFlightSince >= this.staleNanos) {
			flushAll();
		}
		else {
			scheduleStaleCheck();
		}
	}

	/**
	 * The batch in flight was answered (or failed): writes what was buffered behind it,
	 * on the thread that completed the answer.
	 */
	private void answered(CompletableFuture<?> batchEnd) {
		for (;;) {
			if (this.inFlightEnd != batchEnd) {
				// a newer batch was written meanwhile; its own answer moves the buffer on
				return;
			}
			int current = this.state.get();
			if ((current & BUFFERED) == 0) {
				if (this.state.compareAndSet(current, 0)) {
					return;
				}
				continue;
			}
			int next = ((current & BUFFERED_AWAITED) != 0) ? IN_FLIGHT : 0;
			if (this.state.compareAndSet(current, next)) {
				CompletableFuture<?> end = this.last;
				this.inFlightSince = this.clock.getAsLong();
				if (next == IN_FLIGHT && end != null) {
					this.inFlightEnd = end;
				}
				this.connection.flushCommands();
				if (next == IN_FLIGHT && end != null) {
					end.whenComplete((result, failure) -> answered(end));
				}
				return;
			}
		}
	}

}
