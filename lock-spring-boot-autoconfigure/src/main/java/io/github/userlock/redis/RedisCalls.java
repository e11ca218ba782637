package io.github.userlock.redis;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.github.userlock.LockInterruptedException;
import io.github.userlock.LockUnavailableException;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.BaseRedisAsyncCommands;
import org.jspecify.annotations.Nullable;

/**
 * The registry's script calls on its connections ({@link RedisConnections}): EVALSHA with
 * the EVAL fallback, TRYAGAIN retried during a slot migration, every wait bounded by the
 * command timeout, and failures described with the server's own reason.
 *
 * <p>
 * Order on the command connection is what the lock relies on (a release ahead of a later
 * acquire, an undo right behind the acquire it undoes), so the scripts are loaded before
 * the first call and again whenever the connection comes back: a Redis that restarted or
 * failed over lost them. A NOSCRIPT answer that still comes (a {@code SCRIPT FLUSH})
 * falls back to EVAL from the answer's callback; a caller that depends on order behind
 * such a fallback is told through {@code afterFallback}.
 */
final class RedisCalls {

	/** Pause before a script refused with TRYAGAIN (slot migration) is sent again. */
	static final long TRY_AGAIN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

	private static final CompletableFuture<Void> CONNECTED = CompletableFuture.completedFuture(null);

	private final long timeoutNanos;

	private final long spinNanos;

	private final ScheduledExecutorService scheduler;

	private final RedisConnections connections;

	RedisCalls(AbstractRedisClient client, Duration commandTimeout, Duration spinWait, WakeUpChannels wakeUps,
			ScheduledExecutorService scheduler, List<RedisScript> scripts) {
		this.timeoutNanos = commandTimeout.toNanos();
		this.spinNanos = spinWait.toNanos();
		this.scheduler = scheduler;
		this.connections = new RedisConnections(client, this.timeoutNanos, wakeUps, scheduler, scripts);
	}

	boolean isCluster() {
		return this.connections.isCluster();
	}

	long timeoutNanos() {
		return this.timeoutNanos;
	}

	/**
	 * Sends {@code script} with EVALSHA; after a NOSCRIPT answer the source with EVAL,
	 * then runs {@code afterFallback} (if any) on the same thread, right behind it. The
	 * returned future fails with {@link LockUnavailableException} on a Redis error; it
	 * has no timeout of its own (it completes when Redis answers), callers bound their
	 * wait.
	 */
	<T> CompletableFuture<T> call(RedisScript script, ScriptOutputType type, @Nullable String key, long deadline,
			boolean awaited, @Nullable Runnable afterFallback, String[] keys, String... args) {
		return callAndWait(null, script, type, key, deadline, awaited, afterFallback, keys, args);
	}

	/**
	 * {@link #call} with, if {@code replicaWait} is given, {@code WAIT} written right
	 * behind the script in the same write (and again behind an EVAL fallback); its answer
	 * is in {@code replicaWait}.
	 */
	<T> CompletableFuture<T> callAndWait(ReplicaAcknowledgement.@Nullable Pending replicaWait, RedisScript script,
			ScriptOutputType type, @Nullable String key, long deadline, boolean awaited,
			@Nullable Runnable afterFallback, String[] keys, String... args) {
		return send(this.connections.get(key, deadline), replicaWait, script, type, key, deadline, awaited,
				afterFallback, keys, args);
	}

	/**
	 * {@link #callAndWait} that never blocks the calling thread, not even while the
	 * registry connects: the returned future fails with {@link LockUnavailableException}
	 * when the registry is closed or cannot connect. It has no timeout of its own.
	 */
	<T> CompletableFuture<T> callAsync(ReplicaAcknowledgement.@Nullable Pending replicaWait, RedisScript script,
			ScriptOutputType type, @Nullable String key, long deadline, @Nullable Runnable afterFallback, String[] keys,
			String... args) {
		CompletableFuture<RedisConnections.Connected> connections = this.connections.getAsync(key);
		if (connections.isDone() && !connections.isCompletedExceptionally()) {
			return send(connections.join(), replicaWait, script, type, key, deadline, true, afterFallback, keys, args);
		}
		return connections.thenCompose((connected) -> this.<T>send(connected, replicaWait, script, type, key, deadline,
				true, afterFallback, keys, args));
	}

	/**
	 * Completes once the registry is connected (at once when it is), without blocking;
	 * fails with {@link LockUnavailableException} when it is closed or cannot connect.
	 */
	CompletableFuture<Void> whenConnected(@Nullable String key) {
		CompletableFuture<RedisConnections.Connected> connections = this.connections.getAsync(key);
		if (connections.isDone() && !connections.isCompletedExceptionally()) {
			return CONNECTED;
		}
		return connections.thenApply((connected) -> null);
	}

	private <T> CompletableFuture<T> send(RedisConnections.Connected connections,
			ReplicaAcknowledgement.@Nullable Pending replicaWait, RedisScript script, ScriptOutputType type,
			@Nullable String key, long deadline, boolean awaited, @Nullable Runnable afterFallback, String[] keys,
			String... args) {
		CompletableFuture<T> first = connections.pipeline().send(() -> {
			RedisFuture<T> sent = connections.scripting().<T>evalsha(script.sha(), type, keys, args);
			writeWait(connections, replicaWait);
			return sent;
		}, awaited);
		return first.exceptionallyCompose((failure) -> {
			Throwable cause = unwrap(failure);
			if (cause instanceof RedisNoScriptException || String.valueOf(cause.getMessage()).startsWith("NOSCRIPT")) {
				this.connections.reloadScripts(connections);
				CompletableFuture<T> fallback = connections.pipeline().send(() -> {
					RedisFuture<T> sent = connections.scripting().<T>eval(script.source(), type, keys, args);
					writeWait(connections, replicaWait);
					return sent;
				}, awaited);
				if (afterFallback != null) {
					afterFallback.run();
				}
				return fallback;
			}
			if (String.valueOf(cause.getMessage()).startsWith("TRYAGAIN")
					&& deadline - System.nanoTime() > TRY_AGAIN_NANOS) {
				return tryAgain(replicaWait, script, type, key, deadline, awaited, afterFallback, keys, args);
			}
			return CompletableFuture.failedFuture(
					new LockUnavailableException(key, "Redis failed" + forKey(key) + ": " + cause.getMessage(), cause));
		});
	}

	/**
	 * A script whose keys are in a slot being migrated, some moved and some not yet, was
	 * refused with TRYAGAIN: it did not run. It is sent again after a short pause, until
	 * the deadline, and {@code afterFallback} runs right behind the new send (as after an
	 * EVAL fallback: an attempt given up on meanwhile is undone behind it).
	 */
	private <T> CompletableFuture<T> tryAgain(ReplicaAcknowledgement.@Nullable Pending replicaWait, RedisScript script,
			ScriptOutputType type, @Nullable String key, long deadline, boolean awaited,
			@Nullable Runnable afterFallback, String[] keys, String... args) {
		CompletableFuture<T> again = new CompletableFuture<>();
		try {
			this.scheduler.schedule(() -> {
				try {
					CompletableFuture<T> sent = this.<T>callAndWait(replicaWait, script, type, key, deadline, awaited,
							afterFallback, keys, args);
					if (afterFallback != null) {
						afterFallback.run();
					}
					sent.whenComplete((result, failure) -> {
						if (failure != null) {
							again.completeExceptionally(failure);
						}
						else {
							again.complete(result);
						}
					});
				}
				catch (RuntimeException ex) {
					again.completeExceptionally(ex);
				}
			}, TRY_AGAIN_NANOS, TimeUnit.NANOSECONDS);
		}
		catch (RejectedExecutionException ex) {
			again.completeExceptionally(new LockUnavailableException(key, "The lock registry is closed", ex));
		}
		return again;
	}

	private static void writeWait(RedisConnections.Connected connections,
			ReplicaAcknowledgement.@Nullable Pending replicaWait) {
		if (replicaWait != null) {
			replicaWait.writeWait((BaseRedisAsyncCommands<String, String>) connections.scripting());
		}
	}

	/**
	 * What a failed call's future failed with, as the exception the callers throw: a
	 * timeout names the setting, a Redis error the server's reason.
	 */
	LockUnavailableException failure(@Nullable String key, Throwable failure) {
		Throwable cause = unwrap(failure);
		if (cause instanceof ExecutionException && cause.getCause() != null) {
			cause = cause.getCause();
		}
		if (cause instanceof LockUnavailableException unavailable) {
			return unavailable;
		}
		if (cause instanceof TimeoutException) {
			return timedOut(key, cause);
		}
		return new LockUnavailableException(key, "Redis failed" + forKey(key) + ": " + cause.getMessage(), cause);
	}

	/**
	 * Waits for {@code future} until {@code deadline}, naming the setting on timeout;
	 * spins first while the {@link AnswerSpin} of the process lets it.
	 */
	<T> T await(CompletableFuture<T> future, long deadline, @Nullable String key, boolean interruptible) {
		AnswerSpin.PROCESS.begin(future, this.spinNanos);
		try {
			return await(future, deadline, key, interruptible, this.timeoutNanos);
		}
		finally {
			AnswerSpin.PROCESS.done();
		}
	}

	/** {@link #await} for a registry whose command timeout is {@code timeoutNanos}. */
	static <T> T await(CompletableFuture<T> future, long deadline, @Nullable String key, boolean interruptible,
			long timeoutNanos) {
		boolean interrupted = false;
		try {
			for (;;) {
				try {
					return future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
				}
				catch (InterruptedException ex) {
					if (interruptible) {
						Thread.currentThread().interrupt();
						throw new LockInterruptedException(String.valueOf(key), ex);
					}
					interrupted = true;
				}
				catch (TimeoutException ex) {
					throw timedOut(key, ex, timeoutNanos);
				}
				catch (ExecutionException ex) {
					Throwable cause = (ex.getCause() != null) ? ex.getCause() : ex;
					if (cause instanceof LockUnavailableException unavailable) {
						throw unavailable;
					}
					if (cause instanceof TimeoutException) {
						throw timedOut(key, cause, timeoutNanos);
					}
					throw new LockUnavailableException(key, "Redis failed" + forKey(key) + ": " + cause.getMessage(),
							cause);
				}
			}
		}
		finally {
			if (interrupted) {
				Thread.currentThread().interrupt();
			}
		}
	}

	/**
	 * The cause of a failed call, as a log line says it (a timeout names the setting).
	 */
	String describe(Throwable failure) {
		return describeFailure(failure, this.timeoutNanos);
	}

	static String describeFailure(Throwable failure, long timeoutNanos) {
		Throwable cause = unwrap(failure);
		return (cause instanceof TimeoutException) ? noAnswerWithin(timeoutNanos) : String.valueOf(cause.getMessage());
	}

	static Throwable unwrap(Throwable failure) {
		return (failure instanceof CompletionException && failure.getCause() != null) ? failure.getCause() : failure;
	}

	private static String noAnswerWithin(long timeoutNanos) {
		return "Redis did not answer within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos)
				+ " ms (lock.command-timeout)";
	}

	LockUnavailableException timedOut(@Nullable String key, @Nullable Throwable cause) {
		return timedOut(key, cause, this.timeoutNanos);
	}

	private static LockUnavailableException timedOut(@Nullable String key, @Nullable Throwable cause,
			long timeoutNanos) {
		return new LockUnavailableException(key, noAnswerWithin(timeoutNanos) + forKey(key), cause);
	}

	/** Closes the connections (the client stays open: it is the application's). */
	void close() {
		this.connections.close();
	}

	static String forKey(@Nullable String key) {
		return (key != null) ? " for lock '" + key + "'" : "";
	}

}
