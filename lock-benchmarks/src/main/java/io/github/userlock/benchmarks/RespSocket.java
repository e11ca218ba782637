package io.github.userlock.benchmarks;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * A minimal RESP2 connection on one plain blocking socket, shared by the harness's own
 * admin connection ({@link RedisAdmin}) and the {@code socket-floor} row: a command is
 * written whole in one write, then its reply is read by the calling thread. Not
 * thread-safe.
 */
final class RespSocket implements AutoCloseable {

	private final Socket socket;

	private final OutputStream out;

	private final InputStream in;

	private final ByteArrayOutputStream request = new ByteArrayOutputStream(256);

	/**
	 * Connects, with {@code TCP_NODELAY}.
	 * @param connectTimeoutMillis how long the connect may take
	 * @param readTimeoutMillis how long a read may block, 0 for no limit
	 * @param inputBuffer the size of the read buffer
	 */
	RespSocket(String host, int port, int connectTimeoutMillis, int readTimeoutMillis, int inputBuffer)
			throws IOException {
		this.socket = new Socket();
		try {
			this.socket.setTcpNoDelay(true);
			this.socket.connect(new InetSocketAddress(host, port), connectTimeoutMillis);
			this.socket.setSoTimeout(readTimeoutMillis);
			this.out = this.socket.getOutputStream();
			this.in = new BufferedInputStream(this.socket.getInputStream(), inputBuffer);
		}
		catch (IOException ex) {
			this.socket.close();
			throw ex;
		}
	}

	/** Writes one command (an array of bulk strings) in one write, and flushes. */
	void write(String... arguments) throws IOException {
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
	}

	private void writeLine(String line) {
		this.request.writeBytes(line.getBytes(StandardCharsets.US_ASCII));
		this.request.write('\r');
		this.request.write('\n');
	}

	/**
	 * Reads one reply: a {@code String} (simple string), a {@code Long}, a {@code byte[]}
	 * (bulk string), a {@code List} (array), an {@link Error}, or {@code null} for a nil
	 * bulk string or array.
	 */
	@Nullable Object read() throws IOException {
		int type = this.in.read();
		if (type < 0) {
			throw new IOException("Connection closed by redis-server");
		}
		String line = readLine();
		switch (type) {
			case '+':
				return line;
			case '-':
				return new Error(line);
			case ':':
				return Long.parseLong(line);
			case '$': {
				int length = Integer.parseInt(line);
				if (length < 0) {
					return null;
				}
				byte[] bytes = this.in.readNBytes(length);
				this.in.readNBytes(2);
				return bytes;
			}
			case '*': {
				int length = Integer.parseInt(line);
				if (length < 0) {
					return null;
				}
				List<@Nullable Object> list = new ArrayList<>(length);
				for (int i = 0; i < length; i++) {
					list.add(read());
				}
				return list;
			}
			default:
				throw new IOException("Unexpected RESP type '" + (char) type + "' " + line);
		}
	}

	/**
	 * Reads the header of an array reply and returns its length, leaving its elements to
	 * {@link #read()}: to stream a long array without holding it in memory.
	 */
	long readArrayHeader() throws IOException {
		int type = this.in.read();
		if (type != '*') {
			throw new IOException("Expected an array reply, got '" + (char) type + "'");
		}
		return Long.parseLong(readLine());
	}

	private String readLine() throws IOException {
		StringBuilder line = new StringBuilder();
		for (int c = this.in.read(); c != '\r'; c = this.in.read()) {
			if (c < 0) {
				throw new IOException("Connection closed by redis-server");
			}
			line.append((char) c);
		}
		this.in.read();
		return line.toString();
	}

	@Override
	public void close() throws IOException {
		this.socket.close();
	}

	/** An error reply. */
	record Error(String message) {
	}

}
