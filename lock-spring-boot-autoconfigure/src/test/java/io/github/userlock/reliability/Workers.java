package io.github.userlock.reliability;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * Starts {@link LockWorker} child JVMs (plain {@code java} with this JVM's class path)
 * and always ends them: {@link #close()} destroys every child still alive, and a shutdown
 * hook does the same if the test JVM exits first. Children also stop by themselves when
 * their standard input closes or their time limit passes.
 */
final class Workers implements AutoCloseable {

	private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

	static {
		Runtime.getRuntime()
			.addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "lock-worker-reaper"));
	}

	private final Path dir;

	private final Path logbackConfig;

	private final List<Worker> workers = new ArrayList<>();

	Workers() {
		try {
			this.dir = Files.createTempDirectory("lock-workers-");
			this.logbackConfig = this.dir.resolve("logback.xml");
			Files.writeString(this.logbackConfig, """
					<configuration>
					  <appender name="err" class="ch.qos.logback.core.ConsoleAppender">
					    <target>System.err</target>
					    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{20} - %msg%n</pattern></encoder>
					  </appender>
					  <logger name="io.github.userlock" level="INFO"/>
					  <root level="ERROR"><appender-ref ref="err"/></root>
					</configuration>
					""");
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	Path dir() {
		return this.dir;
	}

	/** Default worker settings; tests override some. */
	static Map<String, String> defaults() {
		Map<String, String> args = new LinkedHashMap<>();
		args.put("threads", "8");
		args.put("keys", "20");
		args.put("max", "2500");
		args.put("seconds", "60");
		args.put("leaseMillis", "2000");
		args.put("waitMillis", "10000");
		args.put("commandTimeoutMillis", "500");
		args.put("recheckMillis", "1000");
		args.put("dataTimeoutMillis", "2000");
		args.put("workMicros", "300");
		return args;
	}

	Worker start(int port, Map<String, String> settings) {
		int index = this.workers.size();
		Path log = this.dir.resolve("worker-" + index + ".log");
		Path output = this.dir.resolve("worker-" + index + ".out");
		List<String> command = new ArrayList<>();
		command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
		command.addAll(List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
				"-Dlogback.configurationFile=" + this.logbackConfig, "-cp", System.getProperty("java.class.path"),
				LockWorker.class.getName()));
		command.add("port=" + port);
		command.add("log=" + log);
		settings.forEach((name, value) -> command.add(name + "=" + value));
		try {
			Process process = new ProcessBuilder(command).redirectErrorStream(true)
				.redirectOutput(output.toFile())
				.start();
			LIVE.add(process);
			Worker worker = new Worker(index, process, log, output);
			this.workers.add(worker);
			return worker;
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	List<Worker> all() {
		return List.copyOf(this.workers);
	}

	List<Path> logs() {
		return this.workers.stream().map(Worker::log).toList();
	}

	void awaitReady(Duration timeout) {
		await().atMost(timeout).pollInterval(Duration.ofMillis(50)).until(() -> {
			for (Worker worker : this.workers) {
				if (!worker.process.isAlive()) {
					throw new IllegalStateException("Worker " + worker.index + " died:\n" + worker.output());
				}
			}
			return this.workers.stream().allMatch(Worker::isReady);
		});
	}

	/**
	 * Closes every child's standard input (they finish their current lock and exit) and
	 * waits for them.
	 */
	void stopAll(Duration timeout) {
		for (Worker worker : this.workers) {
			worker.closeInput();
		}
		long deadline = System.nanoTime() + timeout.toNanos();
		for (Worker worker : this.workers) {
			try {
				if (!worker.process.waitFor(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
					throw new IllegalStateException(
							"Worker " + worker.index + " did not stop within " + timeout + ":\n" + worker.output());
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException(ex);
			}
		}
	}

	@Override
	public void close() {
		for (Worker worker : this.workers) {
			if (worker.process.isAlive()) {
				signal(worker.process.pid(), "CONT");
				worker.process.destroyForcibly();
			}
			LIVE.remove(worker.process);
		}
		for (Worker worker : this.workers) {
			try {
				worker.process.waitFor(5, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
		try (var files = Files.walk(this.dir)) {
			files.sorted(java.util.Comparator.reverseOrder()).forEach((path) -> path.toFile().delete());
		}
		catch (IOException ex) {
			// temporary files only
		}
	}

	static void signal(long pid, String signal) {
		try {
			Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.DISCARD)
				.start();
			if (!kill.waitFor(5, TimeUnit.SECONDS)) {
				kill.destroyForcibly();
				throw new IllegalStateException("kill -" + signal + " " + pid + " did not finish");
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	/** One child JVM. */
	static final class Worker {

		final int index;

		final Process process;

		private final Path log;

		private final Path output;

		Worker(int index, Process process, Path log, Path output) {
			this.index = index;
			this.process = process;
			this.log = log;
			this.output = output;
		}

		long pid() {
			return this.process.pid();
		}

		Path log() {
			return this.log;
		}

		boolean isReady() {
			return new File(this.log + ".ready").exists();
		}

		/** How many acquisitions it has released so far. */
		long released() {
			return lines().stream().filter((line) -> line.startsWith("R\t")).count();
		}

		List<String> lines() {
			return History.completeLines(this.log);
		}

		String output() {
			try {
				return Files.exists(this.output) ? Files.readString(this.output, StandardCharsets.UTF_8) : "";
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		}

		void closeInput() {
			try {
				this.process.getOutputStream().close();
			}
			catch (IOException ex) {
				// already gone
			}
		}

		/**
		 * SIGSTOP, and wait until every thread of the process has stopped: the signal is
		 * delivered asynchronously, and a thread still running could log an event
		 * timestamped after the caller's "paused at".
		 */
		void pause() {
			signal(pid(), "STOP");
			java.nio.file.Path tasks = java.nio.file.Path.of("/proc", Long.toString(pid()), "task");
			org.awaitility.Awaitility.await()
				.atMost(java.time.Duration.ofSeconds(10))
				.pollInterval(java.time.Duration.ofMillis(1))
				.until(() -> allStopped(tasks));
		}

		private static boolean allStopped(java.nio.file.Path tasks) throws java.io.IOException {
			try (java.util.stream.Stream<java.nio.file.Path> threads = java.nio.file.Files.list(tasks)) {
				return threads.allMatch((thread) -> {
					try {
						String stat = java.nio.file.Files.readString(thread.resolve("stat"));
						// the state follows the parenthesised command name
						char state = stat.charAt(stat.lastIndexOf(')') + 2);
						return state == 'T' || state == 't';
					}
					catch (java.io.IOException ex) {
						// the thread ended meanwhile
						return true;
					}
				});
			}
		}

		void resume() {
			signal(pid(), "CONT");
		}

		/** SIGKILL, and wait until it is gone. */
		void kill() {
			this.process.destroyForcibly();
			try {
				if (!this.process.waitFor(10, TimeUnit.SECONDS)) {
					throw new IllegalStateException("Worker " + this.index + " survived SIGKILL");
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException(ex);
			}
		}

	}

}
