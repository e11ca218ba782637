package io.github.userlock.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A redis-server 7.0.15 started from the binary inside the
 * {@code org.signal:embedded-redis} jar, on a free loopback port, without persistence,
 * with every command logged to the slow log (the harness counts calls from it, see
 * {@link RedisAdmin}).
 */
final class RedisServerProcess implements AutoCloseable {

	static final String BINARY = "redis-server-7.0.15-linux-amd64";

	static final String VERSION = "7.0.15";

	private final Path directory;

	private final Process process;

	private final int port;

	private RedisServerProcess(Path directory, Process process, int port) {
		this.directory = directory;
		this.process = process;
		this.port = port;
	}

	static RedisServerProcess start() throws IOException, InterruptedException {
		Path directory = Files.createTempDirectory("lock-benchmarks-redis");
		Path binary = directory.resolve(BINARY);
		try (InputStream in = RedisServerProcess.class.getClassLoader().getResourceAsStream(BINARY)) {
			if (in == null) {
				throw new IllegalStateException(BINARY + " not found on the class path (org.signal:embedded-redis)");
			}
			Files.copy(in, binary, StandardCopyOption.REPLACE_EXISTING);
		}
		if (!binary.toFile().setExecutable(true)) {
			throw new IOException("Cannot make " + binary + " executable");
		}
		int port = freePort();
		Process process = new ProcessBuilder(List.of(binary.toString(), "--port", Integer.toString(port), "--bind",
				"127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.toString(),
				"--slowlog-log-slower-than", "-1", "--slowlog-max-len", Integer.toString(RedisAdmin.SLOWLOG_MAX_LEN)))
			.redirectErrorStream(true)
			.redirectOutput(directory.resolve("redis.log").toFile())
			.start();
		RedisServerProcess server = new RedisServerProcess(directory, process, port);
		server.awaitReady();
		return server;
	}

	private void awaitReady() throws IOException, InterruptedException {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		while (true) {
			try (RedisAdmin admin = new RedisAdmin("127.0.0.1", this.port)) {
				admin.ping();
				return;
			}
			catch (IOException ex) {
				if (!this.process.isAlive() || System.nanoTime() > deadline) {
					close();
					throw new IOException("redis-server did not start; see " + this.directory.resolve("redis.log"), ex);
				}
				Thread.sleep(20); // polling a starting process: nothing to wait on but
									// time
			}
		}
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			socket.setReuseAddress(true);
			return socket.getLocalPort();
		}
	}

	int port() {
		return this.port;
	}

	long pid() {
		return this.process.pid();
	}

	@Override
	public void close() {
		this.process.destroy();
		try {
			if (!this.process.waitFor(5, TimeUnit.SECONDS)) {
				this.process.destroyForcibly();
			}
		}
		catch (InterruptedException ex) {
			this.process.destroyForcibly();
			Thread.currentThread().interrupt();
		}
		try (var files = Files.walk(this.directory)) {
			files.sorted((a, b) -> b.compareTo(a)).forEach((file) -> file.toFile().delete());
		}
		catch (IOException ex) {
			// a temp directory left behind is harmless
		}
	}

}
