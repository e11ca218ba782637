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
import java.util.concurrent.atomic.AtomicBoolean;

import io.github.userlock.LockInterruptedException;
import io.github.userlock.LockUnavailableException;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.async.BaseRedisAsyncCommands;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's two connections (commands and Pub/Sub wake-ups) and its script calls:
 * connecting lazily and again after a failure, EVALSHA with the scripts loaded on every
 * (re)connect, every wait bounded by the command timeout, and failures described with the
 * server's own reason.
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

	private static final Logger logger = LoggerFactory.getLogger(RedisCalls.class);

	/** Pause before a script refused with TRYAGAIN (slot migration) is sent again. */
	static final long TRY_AGAIN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

	private static final CompletableFuture<Void> CONNECTED = CompletableFuture.completedFuture(null);

	private final AbstractRedisClient client;

	private final long timeoutNanos;

	private final WakeUpChannels wakeUps;

	private final ScheduledExecutorService scheduler;

	private final List<RedisScript> scripts;

	private final Object connectMonitor = new Object();

	private volatile @Nullable CompletableFuture<Connections> connecting;

	private volatile boolean closed;

	/** Set while a SCRIPT LOAD after NOSCRIPT is in flight, so a burst sends one. */
	private final AtomicBoolean reloading = new AtomicBoolean();

	RedisCalls(AbstractRedisClient client, Duration commandTimeout, WakeUpChannels wakeUps,
			ScheduledExecutorService scheduler, List<RedisScript> scripts) {
		this.client = client;
		this.timeoutNanos = commandTimeout.toNanos();
		this.wakeUps = wakeUps;
		this.scheduler = scheduler;
		this.scripts = List.copyOf(scripts);
		startConnecting(null);
	}

	boolean isCluster() {
		return this.client instanceof RedisClusterClient;
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
		return send(connections(key, deadline), replicaWait, script, type, key, deadline, awaited, afterFallback, keys,
				args);
	}

	/**
	 * {@link #callAndWait} that never blocks the calling thread, not even while the
	 * registry connects: the returned future fails with {@link LockUnavailableException}
	 * when the registry is closed or cannot connect. It has no timeout of its own.
	 */
	<T> CompletableFuture<T> callAsync(ReplicaAcknowledgement.@Nullable Pending replicaWait, RedisScript script,
			ScriptOutputType type, @Nullable String key, long deadline, @Nullable Runnable afterFallback, String[] keys,
			String... args) {
		CompletableFuture<Connections> connections = connectionsAsync(key);
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
		CompletableFuture<Connections> connections = connectionsAsync(key);
		if (connections.isDone() && !connections.isCompletedExceptionally()) {
			return CONNECTED;
		}
		return connections.thenApply((connected) -> null);
	}

	/**
	 * The connections without blocking: the completed future when connected, else one
	 * that completes on connect or fails with {@link LockUnavailableException} (closed,
	 * or the connect failed).
	 */
	private CompletableFuture<Connections> connectionsAsync(@Nullable String key) {
		if (this.closed) {
			return CompletableFuture
				.failedFuture(new LockUnavailableException(key, "The lock registry is closed", null));
		}
		CompletableFuture<Connections> current = this.connecting;
		if (current == null || current.isCompletedExceptionally()) {
			current = startConnecting(current);
		}
		if (current.isDone() && !current.isCompletedExceptionally()) {
			return current;
		}
		return current.handle((connections, failure) -> {
			if (failure != null) {
				throw new LockUnavailableException(key,
						"Cannot connect to Redis" + forKey(key) + ": " + rootReason(failure), unwrap(failure));
			}
			return connections;
		});
	}

	private <T> CompletableFuture<T> send(Connections connections, ReplicaAcknowledgement.@Nullable Pending replicaWait,
			RedisScript script, ScriptOutputType type, @Nullable String key, long deadline, boolean awaited,
			@Nullable Runnable afterFallback, String[] keys, String... args) {
		CompletableFuture<T> first = connections.pipeline.send(() -> {
			RedisFuture<T> sent = connections.scripting.<T>evalsha(script.sha(), type, keys, args);
			writeWait(connections, replicaWait);
			return sent;
		}, awaited);
		return first.exceptionallyCompose((failure) -> {
			Throwable cause = unwrap(failure);
			if (cause instanceof RedisNoScriptException || String.valueOf(cause.getMessage()).startsWith("NOSCRIPT")) {
				reloadScripts(connections);
				CompletableFuture<T> fallback = connections.pipeline.send(() -> {
					RedisFuture<T> sent = connections.scripting.<T>eval(script.source(), type, keys, args);
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

	private static void writeWait(Connections connections, ReplicaAcknowledgement.@Nullable Pending replicaWait) {
		if (replicaWait != null) {
			replicaWait.writeWait((BaseRedisAsyncCommands<String, String>) connections.scripting);
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

	/** Waits for {@code future} until {@code deadline}, naming the setting on timeout. */
	<T> T await(CompletableFuture<T> future, long deadline, @Nullable String key, boolean interruptible) {
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
					throw timedOut(key, ex);
				}
				catch (ExecutionException ex) {
					Throwable cause = (ex.getCause() != null) ? ex.getCause() : ex;
					if (cause instanceof LockUnavailableException unavailable) {
						throw unavailable;
					}
					if (cause instanceof TimeoutException) {
						throw timedOut(key, cause);
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

	private static Throwable unwrap(Throwable failure) {
		return (failure instanceof CompletionException && failure.getCause() != null) ? failure.getCause() : failure;
	}

	private static String noAnswerWithin(long timeoutNanos) {
		return "Redis did not answer within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos)
				+ " ms (lock.command-timeout)";
	}

	LockUnavailableException timedOut(@Nullable String key, @Nullable Throwable cause) {
		return new LockUnavailableException(key, noAnswerWithin(this.timeoutNanos) + forKey(key), cause);
	}

	private static String forKey(@Nullable String key) {
		return (key != null) ? " for lock '" + key + "'" : "";
	}

	// ---- scripts ----

	/**
	 * Loads the scripts again after a NOSCRIPT answer, one SCRIPT LOAD per script at a
	 * time however many calls failed, so that later calls find them.
	 */
	private void reloadScripts(Connections connections) {
		if (!this.reloading.compareAndSet(false, true)) {
			return;
		}
		CompletableFuture<?>[] loads = this.scripts.stream()
			.map((script) -> connections.pipeline.send(() -> connections.scripting.scriptLoad(script.source()), false))
			.toArray(CompletableFuture[]::new);
		CompletableFuture.allOf(loads).whenComplete((ok, failure) -> this.reloading.set(false));
	}

	// ---- connections ----

	private Connections connections(@Nullable String key, long deadline) {
		if (this.closed) {
			throw new LockUnavailableException(key, "The lock registry is closed", null);
		}
		CompletableFuture<Connections> current = this.connecting;
		if (current == null || current.isCompletedExceptionally()) {
			current = startConnecting(current);
		}
		if (current.isDone() && !current.isCompletedExceptionally()) {
			return current.join();
		}
		try {
			return await(current, deadline, key, true);
		}
		catch (LockUnavailableException ex) {
			throw new LockUnavailableException(key,
					"Cannot connect to Redis" + forKey(key) + ": "
							+ ((ex.getCause() instanceof TimeoutException) ? "no connection within "
									+ TimeUnit.NANOSECONDS.toMillis(this.timeoutNanos) + " ms (lock.command-timeout)"
									: rootReason(ex)),
					ex.getCause());
		}
	}

	/**
	 * The innermost message of a connection failure: Lettuce wraps the server's answer
	 * (WRONGPASS, NOAUTH, NOPERM) in "Unable to connect to host:port" exceptions.
	 */
	private static String rootReason(Throwable failure) {
		Throwable cause = failure;
		String reason = failure.getMessage();
		int depth = 0;
		while (cause.getCause() != null && cause.getCause() != cause && depth++ < 20) {
			cause = cause.getCause();
			if (cause instanceof RedisCommandExecutionException) {
				// the server's own answer, e.g. WRONGPASS or NOPERM
				return String.valueOf(cause.getMessage());
			}
			for (Throwable suppressed : cause.getSuppressed()) {
				if (suppressed instanceof RedisCommandExecutionException) {
					return String.valueOf(suppressed.getMessage());
				}
			}
			if (cause.getMessage() != null) {
				reason = cause.getMessage();
			}
		}
		return String.valueOf(reason);
	}

	private CompletableFuture<Connections> startConnecting(@Nullable CompletableFuture<Connections> failed) {
		synchronized (this.connectMonitor) {
			CompletableFuture<Connections> current = this.connecting;
			if (current != null && current != failed && !current.isCompletedExceptionally()) {
				return current;
			}
			CompletableFuture<Connections> next = CompletableFuture.supplyAsync(this::connect, (runnable) -> {
				Thread thread = new Thread(runnable, "user-lock-connect");
				thread.setDaemon(true);
				thread.start();
			});
			this.connecting = next;
			return next;
		}
	}

	private Connections connect() {
		try {
			return connectOnce();
		}
		catch (IllegalStateException ex) {
			if (!lostTheServersAnswer(ex)) {
				throw ex;
			}
			// Lettuce drops the server's answer (WRONGPASS, NOAUTH) when the handshake
			// fails before its connect listener runs; a second try usually shows it
			logger.debug("Connecting again to learn why the first connection failed", ex);
			return connectOnce();
		}
	}

	private static boolean lostTheServersAnswer(Throwable failure) {
		Throwable cause = failure;
		for (int depth = 0; cause != null && depth < 20; depth++, cause = cause.getCause()) {
			if (cause instanceof IllegalStateException
					&& "RedisHandshakeHandler not registered".equals(cause.getMessage())) {
				return true;
			}
		}
		return false;
	}

	private Connections connectOnce() {
		StatefulConnection<String, String> commands = null;
		StatefulRedisPubSubConnection<String, String> pubSub = null;
		try {
			RedisScriptingAsyncCommands<String, String> scripting;
			if (this.client instanceof RedisClusterClient cluster) {
				StatefulRedisClusterConnection<String, String> connection = cluster.connect(StringCodec.UTF8);
				commands = connection;
				scripting = connection.async();
				pubSub = cluster.connectPubSub(StringCodec.UTF8);
			}
			else if (this.client instanceof RedisClient standalone) {
				var connection = standalone.connect(StringCodec.UTF8);
				commands = connection;
				scripting = connection.async();
				pubSub = standalone.connectPubSub(StringCodec.UTF8);
			}
			else {
				throw new IllegalStateException("Unsupported Lettuce client " + this.client.getClass().getName());
			}
			loadScripts(scripting);
			this.wakeUps.subscribe(this.client, commands, pubSub);
			CommandPipeline pipeline = new CommandPipeline(commands, !isCluster(), this.scheduler);
			Connections connections = new Connections(commands, scripting, pubSub, pipeline);
			commands.addListener(new Reconnected(connections));
			if (this.closed) {
				connections.close();
			}
			return connections;
		}
		catch (Exception ex) {
			closeQuietly(commands);
			closeQuietly(pubSub);
			throw new IllegalStateException(ex.getMessage(), ex);
		}
	}

	/**
	 * Loads the scripts before the first call, so that no call needs the EVAL fallback. A
	 * user whose ACL lacks {@code +script|load} still works, through the fallback.
	 */
	private void loadScripts(RedisScriptingAsyncCommands<String, String> scripting) throws Exception {
		// sent together: one round trip
		List<CompletableFuture<String>> loads = this.scripts.stream()
			.map((script) -> scripting.scriptLoad(script.source()).toCompletableFuture())
			.toList();
		long deadline = System.nanoTime() + this.timeoutNanos;
		for (CompletableFuture<String> load : loads) {
			try {
				load.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
			}
			catch (ExecutionException ex) {
				if (!(ex.getCause() instanceof RedisCommandExecutionException)) {
					throw ex;
				}
				logger.debug("Could not load the lock scripts ({}); calls fall back to EVAL when needed",
						ex.getCause().getMessage());
				return;
			}
		}
	}

	/** Closes the connections (the client stays open: it is the application's). */
	void close() {
		this.closed = true;
		this.wakeUps.close();
		CompletableFuture<Connections> current = this.connecting;
		if (current != null && current.isDone() && !current.isCompletedExceptionally()) {
			current.join().close();
		}
		else if (current != null) {
			current.thenAccept(Connections::close);
		}
	}

	private static void closeQuietly(@Nullable StatefulConnection<?, ?> connection) {
		if (connection != null) {
			try {
				// wait (bounded) so that the client does not find it still open and close
				// it again
				connection.closeAsync().get(2, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			catch (ExecutionException | TimeoutException | RuntimeException ex) {
				// closing only
			}
		}
	}

	private record Connections(StatefulConnection<String, String> commands,
			RedisScriptingAsyncCommands<String, String> scripting, StatefulRedisPubSubConnection<String, String> pubSub,
			CommandPipeline pipeline) {

		void close() {
			closeQuietly(this.pubSub);
			closeQuietly(this.commands);
		}

	}

	/**
	 * When the command connection comes back: writes what waited in the group-commit
	 * buffer (the driver re-sends only what was in flight), and loads the scripts again
	 * (a restarted or promoted Redis has none).
	 */
	private final class Reconnected implements RedisConnectionStateListener {

		private final Connections connections;

		Reconnected(Connections connections) {
			this.connections = connections;
		}

		@Override
		public void onRedisConnected(RedisChannelHandler<?, ?> connection,
				java.net.@Nullable SocketAddress socketAddress) {
			if (RedisCalls.this.closed) {
				return;
			}
			logger.debug("Lock connection to Redis (re)established; loading scripts and writing buffered commands");
			reloadScripts(this.connections);
			this.connections.pipeline.flushAll();
		}

	}

}
