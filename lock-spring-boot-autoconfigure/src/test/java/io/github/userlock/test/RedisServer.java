package io.github.userlock.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import org.jspecify.annotations.Nullable;

/**
 * A handle on one real {@code redis-server} 7.0.15 process listening on
 * {@code 127.0.0.1}.
 * <p>
 * The binary comes from the {@code org.signal:embedded-redis} jar and is extracted once
 * per JVM. The port is chosen when the handle is created and never changes, so
 * {@link #restart()} brings the server back where clients expect it and they can
 * reconnect. Every process started here is killed when the JVM exits (a shutdown hook,
 * plus a watchdog process that kills the server if the JVM dies without running hooks).
 * The server runs with no persistence: {@code --save "" --appendonly no}, so a restart
 * starts empty.
 * <p>
 * Admin helpers ({@link #flushAll()}, {@link #keyCount()}, {@link #info(String)}, ...)
 * use a Lettuce connection with a 2 s timeout, authenticated with the default user's
 * password if one was configured.
 * <p>
 * Not thread-safe for concurrent lifecycle calls; a test drives it from one thread.
 */
public final class RedisServer implements AutoCloseable {

	/** How long {@link #start()} waits for the server to answer PING. */
	public static final Duration START_TIMEOUT = Duration.ofSeconds(10);

	private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

	private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(2);

	private static final String HOST = "127.0.0.1";

	private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

	private static volatile @Nullable Path binary;

	private static volatile @Nullable ClientResources adminResources;

	static {
		Runtime.getRuntime().addShutdownHook(new Thread(RedisServer::killAllOnExit, "redis-server-reaper"));
	}

	private final List<String> extraArgs;

	private final @Nullable Path configFile;

	private final @Nullable String adminUser;

	private final @Nullable String adminPassword;

	private final Path workDir;

	private final Path logFile;

	private int port;

	private boolean everStarted;

	private @Nullable Process process;

	private @Nullable Process watchdog;

	private boolean paused;

	private @Nullable RedisClient adminClient;

	private @Nullable StatefulRedisConnection<String, String> adminConnection;

	private RedisServer(Builder builder) {
		this.extraArgs = List.copyOf(builder.args);
		this.configFile = builder.configFile;
		this.adminUser = builder.adminUser;
		this.adminPassword = builder.adminPassword;
		try {
			this.workDir = Files.createTempDirectory("redis-server-");
			this.logFile = this.workDir.resolve("redis.log");
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		this.workDir.toFile().deleteOnExit();
		this.logFile.toFile().deleteOnExit();
		this.port = freePort();
	}

	/**
	 * Create a handle (not started) with the given extra {@code redis-server} arguments,
	 * e.g. {@code "--maxmemory", "10mb"}.
	 * @param extraArgs arguments appended after the harness defaults
	 * @return a new, stopped server handle
	 */
	public static RedisServer create(String... extraArgs) {
		return builder().args(extraArgs).build();
	}

	/**
	 * Start building a server handle with options.
	 * @return a new builder
	 */
	public static Builder builder() {
		return new Builder();
	}

	/**
	 * Start the process and wait until it answers PING (at most {@link #START_TIMEOUT}).
	 * If the port was taken by another process before the first start, a new free port is
	 * chosen; after a successful start the port is fixed for the lifetime of this handle.
	 * @return this server
	 * @throws IllegalStateException if the server does not come up, with its output in
	 * the message
	 */
	public synchronized RedisServer start() {
		if (isRunning()) {
			return this;
		}
		int attempts = this.everStarted ? 1 : 3;
		for (int attempt = 1;; attempt++) {
			try {
				launch();
				this.everStarted = true;
				return this;
			}
			catch (IllegalStateException ex) {
				boolean portTaken = String.valueOf(ex.getMessage()).contains("Address already in use");
				if (!portTaken || attempt >= attempts) {
					throw ex;
				}
				this.port = freePort();
			}
		}
	}

	/**
	 * Stop the server gracefully (SIGTERM, resuming it first if paused); if it has not
	 * exited after 5 s it is killed. Does nothing if it is not running.
	 */
	public synchronized void stop() {
		closeAdmin();
		Process p = this.process;
		if (p == null) {
			return;
		}
		if (this.paused && p.isAlive()) {
			signal(p, "CONT");
		}
		this.paused = false;
		p.destroy();
		awaitExit(p, STOP_TIMEOUT);
		if (p.isAlive()) {
			p.destroyForcibly();
			awaitExit(p, STOP_TIMEOUT);
		}
		forget(p);
	}

	/**
	 * Kill the server immediately (SIGKILL), as a crash would. Does nothing if it is not
	 * running.
	 */
	public synchronized void kill() {
		closeAdmin();
		Process p = this.process;
		if (p == null) {
			return;
		}
		this.paused = false;
		p.destroyForcibly();
		awaitExit(p, STOP_TIMEOUT);
		forget(p);
	}

	/**
	 * {@link #stop()} then {@link #start()} on the same port. The data is lost (no
	 * persistence).
	 * @return this server
	 */
	public synchronized RedisServer restart() {
		stop();
		return start();
	}

	/**
	 * Freeze the process with SIGSTOP: connections stay open, but nothing is answered
	 * until {@link #resume()}.
	 */
	public synchronized void pause() {
		Process p = requireRunning();
		if (!this.paused) {
			signal(p, "STOP");
			this.paused = true;
		}
	}

	/**
	 * Continue a process frozen by {@link #pause()} (SIGCONT). Does nothing if it is not
	 * paused.
	 */
	public synchronized void resume() {
		Process p = this.process;
		if (p != null && this.paused) {
			signal(p, "CONT");
		}
		this.paused = false;
	}

	/**
	 * Whether the process is alive (a paused process is alive).
	 * @return {@code true} if running
	 */
	public synchronized boolean isRunning() {
		Process p = this.process;
		if (p != null && !p.isAlive()) {
			forget(p);
			return false;
		}
		return p != null;
	}

	/**
	 * Whether the process is frozen by {@link #pause()}.
	 * @return {@code true} if paused
	 */
	public synchronized boolean isPaused() {
		return this.paused && isRunning();
	}

	/**
	 * The TCP port, fixed for the lifetime of this handle (after the first successful
	 * start).
	 * @return the port
	 */
	public int port() {
		return this.port;
	}

	/**
	 * The host the server binds to.
	 * @return {@code 127.0.0.1}
	 */
	public String host() {
		return HOST;
	}

	/**
	 * A URI without credentials, e.g. {@code redis://127.0.0.1:6390}.
	 * @return the URI string
	 */
	public String uri() {
		return "redis://" + HOST + ":" + this.port;
	}

	/**
	 * A Lettuce URI for this server carrying the admin credentials (the
	 * {@code requirepass} password, if any).
	 * @return a new URI
	 */
	public RedisURI redisUri() {
		return redisUri(this.port);
	}

	/**
	 * A Lettuce URI with this server's admin credentials but another port, e.g. a
	 * {@link FaultProxy} in front of this server.
	 * @param port the port to connect to
	 * @return a new URI
	 */
	public RedisURI redisUri(int port) {
		RedisURI.Builder builder = RedisURI.builder().withHost(HOST).withPort(port);
		if (this.adminPassword != null) {
			if (this.adminUser != null) {
				builder.withAuthentication(this.adminUser, this.adminPassword);
			}
			else {
				builder.withPassword(this.adminPassword.toCharArray());
			}
		}
		return builder.build();
	}

	/**
	 * Delete every key of every database (FLUSHALL).
	 */
	public void flushAll() {
		admin(RedisCommands::flushall);
	}

	/**
	 * The number of keys in database 0 (DBSIZE).
	 * @return the key count
	 */
	public long keyCount() {
		return admin(RedisCommands::dbsize);
	}

	/**
	 * The raw {@code INFO section} text.
	 * @param section an INFO section, e.g. {@code "clients"}
	 * @return the INFO reply
	 */
	public String info(String section) {
		return admin((commands) -> commands.info(section));
	}

	/**
	 * The {@code INFO section} fields as a map ({@code field -> value}), comments and
	 * blank lines skipped.
	 * @param section an INFO section, e.g. {@code "clients"}
	 * @return the fields, in reply order
	 */
	public Map<String, String> infoMap(String section) {
		Map<String, String> result = new LinkedHashMap<>();
		for (String line : info(section).split("\r?\n")) {
			int colon = line.indexOf(':');
			if (!line.isEmpty() && !line.startsWith("#") && colon > 0) {
				result.put(line.substring(0, colon), line.substring(colon + 1).trim());
			}
		}
		return result;
	}

	/**
	 * Calls per command since start or the last {@link #resetStats()}, from
	 * {@code INFO commandstats}. Keys are lower-case command names as Redis reports them
	 * (e.g. {@code "set"}, {@code "evalsha"}, {@code "client|setname"}); commands never
	 * called are absent.
	 * @return the call counts
	 */
	public Map<String, Long> commandStats() {
		Map<String, Long> result = new LinkedHashMap<>();
		for (Map.Entry<String, String> entry : infoMap("commandstats").entrySet()) {
			String name = entry.getKey();
			if (!name.startsWith("cmdstat_")) {
				continue;
			}
			for (String part : entry.getValue().split(",")) {
				if (part.startsWith("calls=")) {
					result.put(name.substring("cmdstat_".length()), Long.parseLong(part.substring(6)));
				}
			}
		}
		return result;
	}

	/**
	 * The number of calls of one command since start or the last {@link #resetStats()}.
	 * @param command the command name, case-insensitive
	 * @return the call count, 0 if never called
	 */
	public long commandCalls(String command) {
		return commandStats().getOrDefault(command.toLowerCase(Locale.ROOT), 0L);
	}

	/**
	 * Reset the server statistics (CONFIG RESETSTAT), including {@link #commandStats()}.
	 */
	public void resetStats() {
		admin(RedisCommands::configResetstat);
	}

	/**
	 * The number of connected clients ({@code connected_clients}, which includes the
	 * admin connection).
	 * @return the client count
	 */
	public int connectedClients() {
		return Integer.parseInt(infoMap("clients").get("connected_clients"));
	}

	/**
	 * Run an arbitrary command on the admin connection (2 s timeout), e.g.
	 * {@code server.admin(c -> c.pttl("user-lock:x"))}. The connection is re-opened if
	 * the server was restarted.
	 * @param <T> the result type
	 * @param action what to run
	 * @return its result
	 */
	public synchronized <T> T admin(Function<RedisCommands<String, String>, T> action) {
		requireRunning();
		StatefulRedisConnection<String, String> connection = this.adminConnection;
		if (connection == null || !connection.isOpen()) {
			closeAdmin();
			RedisClient client = RedisClient.create(adminResources(), redisUri());
			client.setOptions(ClientOptions.builder()
				.autoReconnect(false)
				.timeoutOptions(TimeoutOptions.enabled(ADMIN_TIMEOUT))
				.build());
			this.adminClient = client;
			connection = client.connect();
			connection.setTimeout(ADMIN_TIMEOUT);
			this.adminConnection = connection;
		}
		return action.apply(connection.sync());
	}

	/**
	 * The last lines the server printed (its log), for diagnostics.
	 * @return up to 4 KB of output
	 */
	public String output() {
		try {
			if (!Files.exists(this.logFile)) {
				return "";
			}
			byte[] bytes = Files.readAllBytes(this.logFile);
			int from = Math.max(0, bytes.length - 4096);
			return new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			return "(cannot read " + this.logFile + ": " + ex + ")";
		}
	}

	/**
	 * The OS process id, if running.
	 * @return the pid
	 */
	public synchronized long pid() {
		return requireRunning().pid();
	}

	/**
	 * Stop the server (see {@link #stop()}) and release the admin client.
	 */
	@Override
	public synchronized void close() {
		stop();
		closeAdmin();
	}

	@Override
	public String toString() {
		return "RedisServer[" + uri() + (isRunning() ? (this.paused ? ", paused" : ", running") : ", stopped") + "]";
	}

	private void launch() {
		List<String> command = new ArrayList<>();
		command.add(binary().toString());
		if (this.configFile != null) {
			// redis-server takes a configuration file only as its first argument
			command.add(this.configFile.toString());
		}
		Collections.addAll(command, "--port", String.valueOf(this.port), "--bind", HOST, "--save", "", "--appendonly",
				"no", "--protected-mode", "no", "--daemonize", "no", "--dir", this.workDir.toString());
		command.addAll(this.extraArgs);
		Process p;
		try {
			appendLog("---- " + String.join(" ", command) + "\n");
			p = new ProcessBuilder(command).redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.appendTo(this.logFile.toFile()))
				.start();
		}
		catch (IOException ex) {
			throw new IllegalStateException("Cannot start " + command, ex);
		}
		LIVE.add(p);
		this.process = p;
		this.paused = false;
		this.watchdog = startWatchdog(p.pid());
		long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
		while (System.nanoTime() < deadline) {
			if (!p.isAlive()) {
				awaitExit(p, STOP_TIMEOUT);
				forget(p);
				throw new IllegalStateException("redis-server exited with code " + p.exitValue() + " on port "
						+ this.port + ". Output:\n" + output());
			}
			if (answersPing()) {
				return;
			}
			awaitExit(p, Duration.ofMillis(20));
		}
		p.destroyForcibly();
		awaitExit(p, STOP_TIMEOUT);
		forget(p);
		throw new IllegalStateException("redis-server did not answer PING within " + START_TIMEOUT + " on port "
				+ this.port + ". Output:\n" + output());
	}

	private boolean answersPing() {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(HOST, this.port), 200);
			socket.setSoTimeout(500);
			OutputStream out = socket.getOutputStream();
			out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
			out.flush();
			InputStream in = socket.getInputStream();
			byte[] buffer = new byte[64];
			int n = in.read(buffer);
			if (n <= 0) {
				return false;
			}
			String reply = new String(buffer, 0, n, StandardCharsets.US_ASCII);
			// -NOAUTH still proves the server is serving; -LOADING does not.
			return reply.startsWith("+PONG") || reply.startsWith("-NOAUTH");
		}
		catch (IOException ex) {
			return false;
		}
	}

	private @Nullable Process startWatchdog(long redisPid) {
		// Kills redis-server if this JVM dies without running shutdown hooks (e.g.
		// SIGKILL by a fork timeout).
		String script = "while kill -0 \"$1\" 2>/dev/null && kill -0 \"$2\" 2>/dev/null; do sleep 1; done; "
				+ "kill -0 \"$2\" 2>/dev/null && kill -9 \"$2\"";
		try {
			Process w = new ProcessBuilder("sh", "-c", script, "redis-watchdog",
					String.valueOf(ProcessHandle.current().pid()), String.valueOf(redisPid))
				.redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.DISCARD)
				.start();
			LIVE.add(w);
			return w;
		}
		catch (IOException ex) {
			return null;
		}
	}

	private void forget(Process p) {
		LIVE.remove(p);
		if (this.process == p) {
			this.process = null;
			this.paused = false;
			Process w = this.watchdog;
			if (w != null) {
				w.destroyForcibly();
				LIVE.remove(w);
				this.watchdog = null;
			}
		}
	}

	private Process requireRunning() {
		Process p = this.process;
		if (p == null || !p.isAlive()) {
			throw new IllegalStateException(this + " is not running");
		}
		return p;
	}

	private void closeAdmin() {
		StatefulRedisConnection<String, String> connection = this.adminConnection;
		this.adminConnection = null;
		if (connection != null) {
			connection.closeAsync();
		}
		RedisClient client = this.adminClient;
		this.adminClient = null;
		if (client != null) {
			client.shutdownAsync(0, 2, TimeUnit.SECONDS);
		}
	}

	private void appendLog(String text) throws IOException {
		Files.writeString(this.logFile, text, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
				java.nio.file.StandardOpenOption.APPEND);
	}

	private static void signal(Process p, String signal) {
		try {
			Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(p.pid())).redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.DISCARD)
				.start();
			if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
				kill.destroyForcibly();
				throw new IllegalStateException("kill -" + signal + " " + p.pid() + " failed");
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while sending SIG" + signal, ex);
		}
	}

	private static void awaitExit(Process p, Duration timeout) {
		try {
			p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private static int freePort() {
		try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getByName(HOST))) {
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	private static synchronized ClientResources adminResources() {
		ClientResources resources = adminResources;
		if (resources == null) {
			resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2).build();
			adminResources = resources;
		}
		return resources;
	}

	private static synchronized Path binary() {
		Path path = binary;
		if (path == null) {
			String resource = binaryResource();
			try (InputStream in = RedisServer.class.getResourceAsStream(resource)) {
				if (in == null) {
					throw new IllegalStateException(
							"Resource " + resource + " not found; is org.signal:embedded-redis on the classpath?");
				}
				path = Files.createTempFile("redis-server-7.0.15-", "");
				path.toFile().deleteOnExit();
				Files.copy(in, path, StandardCopyOption.REPLACE_EXISTING);
			}
			catch (IOException ex) {
				throw new UncheckedIOException("Cannot extract " + resource, ex);
			}
			if (!path.toFile().setExecutable(true)) {
				throw new IllegalStateException("Cannot make " + path + " executable");
			}
			binary = path;
		}
		return path;
	}

	static String binaryResource() {
		String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
		String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
		String osPart;
		if (os.contains("linux")) {
			osPart = "linux";
		}
		else if (os.contains("mac") || os.contains("darwin")) {
			osPart = "darwin";
		}
		else {
			throw new IllegalStateException("No redis-server binary for OS " + os);
		}
		String archPart = switch (arch) {
			case "amd64", "x86_64" -> "amd64";
			case "aarch64", "arm64" -> "arm64";
			case "x86", "i386", "i486", "i586", "i686" -> "386";
			default -> throw new IllegalStateException("No redis-server binary for architecture " + arch);
		};
		if (osPart.equals("darwin") && archPart.equals("386")) {
			throw new IllegalStateException("No redis-server binary for darwin-386");
		}
		return "/redis-server-7.0.15-" + osPart + "-" + archPart;
	}

	private static void killAllOnExit() {
		for (Process p : LIVE) {
			p.destroyForcibly();
		}
		ClientResources resources = adminResources;
		if (resources != null) {
			resources.shutdown(0, 1, TimeUnit.SECONDS);
		}
	}

	/**
	 * Options for a {@link RedisServer}.
	 */
	public static final class Builder {

		private final List<String> args = new ArrayList<>();

		private @Nullable String adminUser;

		private @Nullable String adminPassword;

		private @Nullable Path configFile;

		private Builder() {
		}

		/**
		 * A configuration file, passed as the first argument (before the harness defaults
		 * and the extra arguments, which override it). Sentinel mode ({@code --sentinel})
		 * needs one, writable: the sentinel rewrites it.
		 * @param configFile the file
		 * @return this builder
		 */
		public Builder configFile(Path configFile) {
			this.configFile = configFile;
			return this;
		}

		/**
		 * Extra {@code redis-server} arguments, appended after the harness defaults.
		 * @param args e.g. {@code "--maxmemory", "10mb"}
		 * @return this builder
		 */
		public Builder args(String... args) {
			this.args.addAll(Arrays.asList(args));
			return this;
		}

		/**
		 * Require a password for the default user ({@code --requirepass}); the admin
		 * connection and {@link RedisServer#redisUri()} use it.
		 * @param password the password
		 * @return this builder
		 */
		public Builder password(String password) {
			this.args.add("--requirepass");
			this.args.add(password);
			this.adminPassword = password;
			this.adminUser = null;
			return this;
		}

		/**
		 * Define an ACL user with a rule in {@code ACL SETUSER} syntax, e.g.
		 * {@code "app on >secret ~user-lock:* +@all"} (passed as {@code --user ...},
		 * verified on 7.0.15). Cannot be combined with an {@code --aclfile} argument.
		 * @param rule the user name followed by its rules, separated by spaces
		 * @return this builder
		 */
		public Builder aclUser(String rule) {
			this.args.add("--user");
			this.args.addAll(Arrays.asList(rule.trim().split("\\s+")));
			return this;
		}

		/**
		 * Credentials for the admin connection and {@link RedisServer#redisUri()}, needed
		 * when the default user is disabled or protected by an ACL rule rather than by
		 * {@link #password(String)}.
		 * @param user the ACL user name
		 * @param password its password
		 * @return this builder
		 */
		public Builder adminCredentials(String user, String password) {
			this.adminUser = user;
			this.adminPassword = password;
			return this;
		}

		/**
		 * Create the handle; the server is not started.
		 * @return a new server handle
		 */
		public RedisServer build() {
			return new RedisServer(this);
		}

	}

}
