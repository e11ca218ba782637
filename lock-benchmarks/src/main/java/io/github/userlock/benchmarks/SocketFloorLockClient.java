package io.github.userlock.benchmarks;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
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
 * be worth on this machine. A few lines of RESP, enough for {@code EVALSHA} with one key;
 * the rest is {@link BareLockClient}'s. Not judged and not among the default rows.
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
			Socket socket = new Socket();
			socket.setTcpNoDelay(true);
			socket.connect(new InetSocketAddress(this.host, this.port), TIMEOUT_MILLIS);
			socket.setSoTimeout(TIMEOUT_MILLIS);
			Connection opened = new Connection(socket);
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

	/** One blocking connection: a request is written whole, then its reply read. */
	private static final class Connection {

		private final Socket socket;

		private final OutputStream out;

		private final InputStream in;

		private final ByteArrayOutputStream request = new ByteArrayOutputStream(256);

		Connection(Socket socket) throws IOException {
			this.socket = socket;
			this.out = socket.getOutputStream();
			this.in = new BufferedInputStream(socket.getInputStream(), 4096);
		}

		/**
		 * Sends one command and returns its reply: a String (simple or bulk), a Long, or
		 * {@code null} for a nil reply; an error reply is thrown.
		 */
		@Nullable Object call(String... arguments) {
			try {
				this.request.reset();
				writeLine("*" + arguments.length);
				for (String argument : arguments) {
					byte[] bytes = argument.getBytes(StandardCharsets.UTF_8);
					writeLine("$" + bytes.length);
					this.request.write(bytes);
					this.request.write('\r');
					this.request.write('\n');
				}
				this.request.writeTo(this.out);
				this.out.flush();
				return readReply();
			}
			catch (IOException ex) {
				throw new UncheckedIOException("socket-floor call " + arguments[0] + " failed", ex);
			}
		}

		private void writeLine(String line) {
			this.request.writeBytes(line.getBytes(StandardCharsets.US_ASCII));
			this.request.write('\r');
			this.request.write('\n');
		}

		private @Nullable Object readReply() throws IOException {
			int type = this.in.read();
			String line = readLine();
			return switch (type) {
				case '+' -> line;
				case ':' -> Long.parseLong(line);
				case '-' -> throw new IllegalStateException("Redis answered " + line);
				case '$' -> {
					int length = Integer.parseInt(line);
					if (length < 0) {
						yield null;
					}
					byte[] bytes = this.in.readNBytes(length + 2);
					yield new String(bytes, 0, length, StandardCharsets.UTF_8);
				}
				case -1 -> throw new IOException("connection closed by Redis");
				default -> throw new IllegalStateException("unexpected reply type '" + (char) type + "' " + line);
			};
		}

		private String readLine() throws IOException {
			StringBuilder line = new StringBuilder();
			for (int c = this.in.read(); c != '\r'; c = this.in.read()) {
				if (c < 0) {
					throw new IOException("connection closed by Redis");
				}
				line.append((char) c);
			}
			this.in.read();
			return line.toString();
		}

		void close() {
			try {
				this.socket.close();
			}
			catch (IOException ex) {
				// closing anyway
			}
		}

	}

}
