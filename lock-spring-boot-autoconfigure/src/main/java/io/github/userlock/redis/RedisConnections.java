package io.github.userlock.redis;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import io.github.userlock.LockUnavailableException;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's two connections, commands and Pub/Sub wake-ups: opened lazily on a
 * thread of their own and again after a failure (a caller waits at most the command
 * timeout for them), with the scripts loaded before the first call and again whenever the
 * command connection comes back (a Redis that restarted or failed over lost them), and
 * the wake-up subscription made on every new pair.
 */
final class RedisConnections {

	/** The category of the registry's Redis calls, as before this class was split off. */
	private static final Logger logger = LoggerFactory.getLogger(RedisCalls.class);

	private final AbstractRedisClient client;

	private final long timeoutNanos;

	private final WakeUpChannels wakeUps;

	private final ScheduledExecutorService scheduler;

	private final List<RedisScript> scripts;

	private final Object connectMonitor = new Object();

	private volatile @Nullable CompletableFuture<Connected> connecting;

	private volatile boolean closed;

	/** Set while a SCRIPT LOAD after NOSCRIPT is in flight, so a burst sends one. */
	private final AtomicBoolean reloading = new AtomicBoolean();

	RedisConnections(AbstractRedisClient client, long timeoutNanos, WakeUpChannels wakeUps,
			ScheduledExecutorService scheduler, List<RedisScript> scripts) {
		this.client = client;
		this.timeoutNanos = timeoutNanos;
		this.wakeUps = wakeUps;
		this.scheduler = scheduler;
		this.scripts = List.copyOf(scripts);
		startConnecting(null);
	}

	boolean isCluster() {
		return this.client instanceof RedisClusterClient;
	}

	/**
	 * The connections without blocking: the completed future when connected, else one
	 * that completes on connect or fails with {@link LockUnavailableException} (closed,
	 * or the connect failed).
	 */
	CompletableFuture<Connected> getAsync(@Nullable String key) {
		if (this.closed) {
			return CompletableFuture
				.failedFuture(new LockUnavailableException(key, "The lock registry is closed", null));
		}
		CompletableFuture<Connected> current = this.connecting;
		if (current == null || current.isCompletedExceptionally()) {
			current = startConnecting(current);
		}
		if (current.isDone() && !current.isCompletedExceptionally()) {
			return current;
		}
		return current.handle((connections, failure) -> {
			if (failure != null) {
				throw new LockUnavailableException(key,
						"Cannot connect to Redis" + RedisCalls.forKey(key) + ": " + rootReason(failure),
						RedisCalls.unwrap(failure));
			}
			return connections;
		});
	}

	/**
	 * Loads the scripts again after a NOSCRIPT answer, one SCRIPT LOAD per script at a
	 * time however many calls failed, so that later calls find them.
	 */
	void reloadScripts(Connected connections) {
		if (!this.reloading.compareAndSet(false, true)) {
			return;
		}
		CompletableFuture<?>[] loads = this.scripts.stream()
			.map((script) -> connections.pipeline.send(() -> connections.scripting.scriptLoad(script.source()), false))
			.toArray(CompletableFuture[]::new);
		CompletableFuture.allOf(loads).whenComplete((ok, failure) -> this.reloading.set(false));
	}

	/**
	 * The connections, waiting for a connect in progress until {@code deadline}; fails
	 * with {@link LockUnavailableException} when closed, when the connect failed (with
	 * the server's reason) or did not finish in time.
	 */
	Connected get(@Nullable String key, long deadline) {
		if (this.closed) {
			throw new LockUnavailableException(key, "The lock registry is closed", null);
		}
		CompletableFuture<Connected> current = this.connecting;
		if (current == null || current.isCompletedExceptionally()) {
			current = startConnecting(current);
		}
		if (current.isDone() && !current.isCompletedExceptionally()) {
			return current.join();
		}
		try {
			return RedisCalls.await(current, deadline, key, true, this.timeoutNanos);
		}
		catch (LockUnavailableException ex) {
			throw new LockUnavailableException(key,
					"Cannot connect to Redis" + RedisCalls.forKey(key) + ": "
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
	static String rootReason(Throwable failure) {
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

	private CompletableFuture<Connected> startConnecting(@Nullable CompletableFuture<Connected> failed) {
		synchronized (this.connectMonitor) {
			CompletableFuture<Connected> current = this.connecting;
			if (current != null && current != failed && !current.isCompletedExceptionally()) {
				return current;
			}
			CompletableFuture<Connected> next = CompletableFuture.supplyAsync(this::connect, (runnable) -> {
				Thread thread = new Thread(runnable, "user-lock-connect");
				thread.setDaemon(true);
				thread.start();
			});
			this.connecting = next;
			return next;
		}
	}

	private Connected connect() {
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

	private Connected connectOnce() {
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
			// no driver timer per command on this connection: lock.command-timeout
			// bounds every call's wait (RedisCalls.await, the async timers) and the
			// engine undoes a given-up acquire, so Lettuce's own timeout (which Boot
			// turns on) would only schedule and cancel a timer per command
			commands.setTimeout(Duration.ZERO);
			loadScripts(scripting);
			this.wakeUps.subscribe(this.client, commands, pubSub);
			CommandPipeline pipeline = new CommandPipeline(commands, !isCluster(), this.scheduler);
			Connected connections = new Connected(commands, scripting, pubSub, pipeline);
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
		CompletableFuture<Connected> current = this.connecting;
		if (current != null && current.isDone() && !current.isCompletedExceptionally()) {
			current.join().close();
		}
		else if (current != null) {
			current.thenAccept(Connected::close);
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

	/**
	 * One pair of connections and what calls use on them.
	 *
	 * @param commands the command connection
	 * @param scripting its scripting commands
	 * @param pubSub the wake-up subscription's connection
	 * @param pipeline the group commit on the command connection
	 */
	record Connected(StatefulConnection<String, String> commands, RedisScriptingAsyncCommands<String, String> scripting,
			StatefulRedisPubSubConnection<String, String> pubSub, CommandPipeline pipeline) {

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

		private final Connected connections;

		Reconnected(Connected connections) {
			this.connections = connections;
		}

		@Override
		public void onRedisConnected(RedisChannelHandler<?, ?> connection,
				java.net.@Nullable SocketAddress socketAddress) {
			if (RedisConnections.this.closed) {
				return;
			}
			logger.debug("Lock connection to Redis (re)established; loading scripts and writing buffered commands");
			reloadScripts(this.connections);
			this.connections.pipeline.flushAll();
		}

	}

}
