package io.github.userlock.redis;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
 * for at most {@link #STALE_AFTER}; the next command after that writes everything itself,
 * so progress never depends on an answer that may be lost. Cluster connections are not
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

	/**
	 * IN_FLIGHT, BUFFERED, BUFFERED_AWAITED; changed by compare-and-set only, no lock on
	 * the callers' path.
	 */
	private final AtomicInteger state = new AtomicInteger();

	private volatile long inFlightSince;

	/**
	 * The command buffered last: the end of the next batch (set after it is buffered, so
	 * that a flush that reads it writes it).
	 */
	private volatile @Nullable CompletableFuture<?> last;

	CommandPipeline(StatefulConnection<String, String> connection, boolean batching) {
		this(connection, batching, STALE_AFTER, System::nanoTime);
	}

	CommandPipeline(StatefulConnection<String, String> connection, boolean batching, long staleNanos,
			LongSupplier clock) {
		this.connection = connection;
		this.batching = batching;
		this.staleNanos = staleNanos;
		this.clock = clock;
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
			if ((current & IN_FLIGHT) != 0 && now - this.inFlightSince < this.staleNanos) {
				int next = current | BUFFERED | (awaited ? BUFFERED_AWAITED : 0);
				if (current == next || this.state.compareAndSet(current, next)) {
					return sent;
				}
			}
			else {
				int next = (awaited || (current & BUFFERED_AWAITED) != 0) ? IN_FLIGHT : 0;
				if (this.state.compareAndSet(current, next)) {
					this.inFlightSince = now;
					this.connection.flushCommands();
					if (next == IN_FLIGHT) {
						// this command ends the batch just written
						sent.whenComplete(this::answered);
					}
					return sent;
				}
			}
		}
	}

	/**
	 * The batch in flight was answered (or failed): writes what was buffered behind it,
	 * on the thread that completed the answer.
	 */
	private void answered(@Nullable Object result, @Nullable Throwable failure) {
		for (;;) {
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
				this.connection.flushCommands();
				if (next == IN_FLIGHT && end != null) {
					end.whenComplete(this::answered);
				}
				return;
			}
		}
	}

}
