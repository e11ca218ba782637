package io.github.userlock.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.jspecify.annotations.Nullable;

/**
 * The {@code socket-floor} row: the same two awaited script calls per cycle as
 * {@link FloorLockClient}, but on a blocking socket of each calling thread's own (as
 * Jedis works), so the caller writes and reads itself and no I/O thread stands between it
 * and Redis: one wake-up per call (the caller's, by the kernel) instead of two. Not a
 * lock anyone runs and not the client Boot builds; it shows what such a transport would
 * be worth on this machine. The wire is the harness's {@link RespSocket}; the rest is
 * {@link BareLockClient}'s. Not judged and not among the default rows.
 */
final class SocketFloorLockClient extends BareLockClient {

	private static final int TIMEOUT_MILLIS = 5_000;

	private final String host;

	private final int port;

	private final String acquireSha = sha1(ACQUIRE);

	private final String releaseSha = sha1(RELEASE);

	private final String leaseMillis;

	private final List<Connection> connections = new CopyOnWriteArrayList<>();

	private final ThreadLocal<Connection> connection = ThreadLocal.withInitial(this::connect);

	SocketFloorLockClient(ClientSettings settings) {
		this.host = settings.host();
		this.port = settings.port();
		this.leaseMillis = Long.toString(settings.lease().toMillis());
		Connection loader = connect();
		loader.call("SCRIPT", "LOAD", ACQUIRE);
		loader.call("SCRIPT", "LOAD", RELEASE);
	}

	@Override
	boolean setIfAbsent(String key, String token) {
		return this.connection.get().call("EVALSHA", this.acquireSha, "1", key, token, this.leaseMillis) != null;
	}

	@Override
	void deleteIfOwner(String key, String token) {
		this.connection.get().call("EVALSHA", this.releaseSha, "1", key, token);
	}

	@Override
	public void close() {
		for (Connection open : this.connections) {
			open.close();
		}
		this.connections.clear();
	}

	private Connection connect() {
		try {
			Connection opened = new Connection(
					new RespSocket(this.host, this.port, TIMEOUT_MILLIS, TIMEOUT_MILLIS, 4096));
			this.connections.add(opened);
			return opened;
		}
		catch (IOException ex) {
			throw new UncheckedIOException("socket-floor cannot connect to " + this.host + ":" + this.port, ex);
		}
	}

	private static String sha1(String script) {
		try {
			return HexFormat.of()
				.formatHex(MessageDigest.getInstance("SHA-1").digest(script.getBytes(StandardCharsets.UTF_8)));
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * One blocking connection ({@link RespSocket}): a request is written whole, then its
	 * reply read.
	 */
	private record Connection(RespSocket resp) {

		/**
		 * Sends one command and returns its reply, {@code null} for a nil reply; an error
		 * reply is thrown.
		 */
		@Nullable Object call(String... arguments) {
			Object reply;
			try {
				this.resp.write(arguments);
				reply = this.resp.read();
			}
			catch (IOException ex) {
				throw new UncheckedIOException("socket-floor call " + arguments[0] + " failed", ex);
			}
			if (reply instanceof RespSocket.Error error) {
				throw new IllegalStateException("Redis answered " + error.message());
			}
			return reply;
		}

		void close() {
			try {
				this.resp.close();
			}
			catch (IOException ex) {
				// closing anyway
			}
		}

	}

}
