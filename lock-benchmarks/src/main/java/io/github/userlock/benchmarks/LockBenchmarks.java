package io.github.userlock.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

import io.github.userlock.redis.RedisLockRegistry;

/**
 * The benchmark's entry point: starts a redis-server, runs the selected scenarios for the
 * selected libraries (scenario by scenario, each library in turn on a flushed Redis),
 * prints the table and the verdict on each target of the issue, and writes
 * {@code docs/BENCHMARKS.md} and {@code docs/benchmarks.svg}.
 */
public final class LockBenchmarks {

	static final String NOTES_MARKER = "<!-- notes: everything below this line is kept when the benchmark rewrites this file -->";

	private LockBenchmarks() {
	}

	public static void main(String[] args) throws Exception {
		BenchmarkOptions options;
		try {
			options = BenchmarkOptions.parse(args);
		}
		catch (IllegalArgumentException ex) {
			System.err.println(ex.getMessage());
			System.err.print(BenchmarkOptions.USAGE);
			System.exit(2);
			return;
		}
		if (options.help) {
			System.out.print(BenchmarkOptions.USAGE);
			return;
		}
		int status;
		try (RedisServerProcess redis = RedisServerProcess.start();
				RedisAdmin admin = new RedisAdmin("127.0.0.1", redis.port())) {
			Runtime.getRuntime().addShutdownHook(new Thread(redis::close));
			admin.nameSelf();
			System.out.printf(Locale.ROOT, "redis-server %s on port %d (pid %d); libraries %s; scenarios %s%n",
					RedisServerProcess.VERSION, redis.port(), redis.pid(), options.libraries, options.scenarios);
			ClientSettings settings = new ClientSettings("127.0.0.1", redis.port(), options.lease, false,
					options.lockProperties);
			ScenarioRunner runner = new ScenarioRunner(options, admin, settings);
			if (options.profile) {
				Profiler profiler = new Profiler(runner, admin, options.profileOut);
				System.out.println("The machine's load while profiling (/proc/loadavg): " + loadAverage());
				System.out.println("Warming up every library (unmeasured) ...");
				runner.warmUpAll(options.libraries);
				for (Scenario scenario : Profiler.profilable(options.scenarios)) {
					for (Library library : options.libraries) {
						profiler.profile(scenario, library, options.duration);
					}
				}
				System.exit(0);
				return;
			}
			System.out.println("Warming up every library (unmeasured) ...");
			runner.warmUpAll(options.libraries);
			List<ScenarioResult> results = new ArrayList<>();
			for (Scenario scenario : options.scenarios) {
				for (Library library : options.libraries) {
					System.out.printf(Locale.ROOT, "%s %s / %s ...%n", scenario.number(), scenario.title(),
							library.id());
					long start = System.nanoTime();
					ScenarioResult result = runner.run(scenario, library);
					results.add(result);
					Report single = new Report(List.of(result));
					System.out.printf(Locale.ROOT, "  %s  (%.0f s)%n    calls: %s%n",
							String.join(" | ", single.rows().get(0)), (System.nanoTime() - start) / 1e9,
							single.callBreakdown(result));
					for (String violation : result.violations) {
						System.out.println("    VIOLATION: " + violation);
					}
				}
			}
			Report report = new Report(results);
			String text = summary(report);
			System.out.println();
			System.out.print(text);
			if (options.write) {
				write(options, report, redis);
			}
			status = report.verdicts().stream().anyMatch((v) -> v.status().equals("BROKEN")) ? 1 : 0;
		}
		// Redisson and Lettuce leave non-daemon threads behind after shutdown; the run is
		// over.
		System.exit(status);
	}

	static String summary(Report report) {
		StringBuilder sb = new StringBuilder();
		sb.append(report.consoleTable()).append('\n');
		for (String line : report.ratios()) {
			sb.append(line).append('\n');
		}
		sb.append('\n').append("Targets of the issue:\n");
		for (Report.Verdict verdict : report.verdicts()) {
			sb.append(String.format(Locale.ROOT, "  [%s] %s: %s%n", verdict.status(), verdict.target(),
					verdict.figures()));
		}
		return sb.toString();
	}

	private static void write(BenchmarkOptions options, Report report, RedisServerProcess redis) throws IOException {
		Files.createDirectories(options.out);
		Path markdown = options.out.resolve("BENCHMARKS.md");
		String notes = "";
		if (Files.exists(markdown)) {
			String existing = Files.readString(markdown);
			int at = existing.indexOf(NOTES_MARKER);
			if (at >= 0) {
				notes = existing.substring(at + NOTES_MARKER.length());
			}
		}
		Files.writeString(markdown, markdown(options, report) + NOTES_MARKER + (notes.isEmpty() ? "\n" : notes),
				StandardCharsets.UTF_8);
		Files.writeString(options.out.resolve("benchmarks.svg"), new SvgChart(report, options.libraries).render(),
				StandardCharsets.UTF_8);
		System.out.println("Wrote " + markdown + " and " + options.out.resolve("benchmarks.svg"));
	}

	static String markdown(BenchmarkOptions options, Report report) {
		StringBuilder md = new StringBuilder();
		md.append("# Benchmarks: this lock vs Redisson and Spring Integration\n\n");
		md.append("Written by the `lock-benchmarks` module on ")
			.append(OffsetDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_LOCAL_DATE))
			.append(". Run it yourself:\n\n```\n./mvnw -pl lock-benchmarks -am package\n")
			.append(options.commandLine())
			.append("\n```\n\n");
		md.append("Only ratios within one run count: absolute numbers drift from run to run on a shared machine. ")
			.append("The call counts do not depend on machine noise.\n\n");
		md.append("## Machine and versions\n\n");
		md.append("- CPUs (nproc): ")
			.append(Runtime.getRuntime().availableProcessors())
			.append(", ")
			.append(cpuModel())
			.append(", shared with redis-server and every client\n");
		md.append("- Java: ")
			.append(System.getProperty("java.vm.name"))
			.append(' ')
			.append(System.getProperty("java.runtime.version"))
			.append(", ")
			.append(System.getProperty("os.name"))
			.append(' ')
			.append(System.getProperty("os.version"))
			.append('\n');
		md.append("- redis-server ")
			.append(RedisServerProcess.VERSION)
			.append(" (binary from `org.signal:embedded-redis`), loopback, no persistence\n");
		md.append("- this project: `")
			.append(RedisLockRegistry.class.getName())
			.append("` ")
			.append(version("io.github.userlock", "lock-spring-boot-autoconfigure"))
			.append('\n');
		md.append("- Spring Boot ")
			.append(org.springframework.boot.SpringBootVersion.getVersion())
			.append(": every instance of ours and of Spring Integration is a Boot application context on Boot's ")
			.append("Lettuce connection factory, configured through properties\n");
		md.append("- Redisson ").append(version("org.redisson", "redisson")).append(" (default config)\n");
		md.append("- Spring Integration ")
			.append(version("org.springframework.integration", "spring-integration-redis"))
			.append(" (as Boot manages it: si-spin, si-pubsub) and ")
			.append(IsolatedSpringIntegration.version())
			.append(" (the newest 7.1.x, in its own class loader with the Boot 4.1.x stack that manages it: ")
			.append("si71-spin, si71-pubsub), Spring Data Redis ")
			.append(version("org.springframework.data", "spring-data-redis"))
			.append(", Lettuce ")
			.append(version("io.lettuce", "lettuce-core"))
			.append('\n');
		md.append(String.format(Locale.ROOT,
				"- run: a warm-up of every library first (many-users and uncontended loads, unmeasured), then per scenario and library a warm-up of %s, %d measured iterations of %s (scenarios 1-3); %d burst rounds after %d warm-up rounds; holds of %s on %d locks; lease %s for every library%n%n",
				options.warmup, options.iterations, options.duration, options.burstRounds, options.burstWarmup,
				options.hold, options.holdLocks, options.lease));
		md.append("## Results\n\n");
		md.append(report.markdownTable()).append('\n');
		md.append("![Throughput and Redis commands per acquisition by library](benchmarks.svg)\n\n");
		md.append("Columns: ops/s = acquisitions per second (scenarios 1-2: acquire + release cycles); p50/p99 = ")
			.append("latency of one acquire + release cycle as the calling thread sees it (scenario 4: of each loser's ")
			.append("`tryAcquire`); calls/acq = Redis calls the clients sent per acquisition (a script call counts once; ")
			.append("Pub/Sub subscribe calls and pings count too); scripts/acq = of those, script calls (EVAL/EVALSHA); ")
			.append("cmds/acq = every command Redis executed, i.e. client calls plus the commands run inside scripts. ")
			.append("Scenario 4 divides by rounds (one acquisition per round). Redis CPU/acq = redis-server's own CPU ")
			.append("time (`INFO cpu`, used_cpu_sys + used_cpu_user) over the timed part divided by its acquisitions; ")
			.append("client CPU/acq = CPU time of the benchmark JVM process (`OperatingSystemMXBean#getProcessCpuTime`) ")
			.append("over the timed part divided by its acquisitions: every instance of the row together, plus the ")
			.append("harness's threads, the JIT and the GC (scenario 4: per round, including the start of the round's ")
			.append("200 threads). In \"Redis calls in detail\", machine idle and steal are the whole machine's ")
			.append("idle (with iowait) and steal shares of its CPU time over the timed part (`/proc/stat`, every CPU): ")
			.append("a row that leaves the processors idle is bound by waiting, not by CPU.\n\n");
		List<String> ratios = report.ratios();
		if (!ratios.isEmpty()) {
			md.append("## Ours vs the best peer\n\n");
			for (String line : ratios) {
				md.append("- ").append(line).append('\n');
			}
			md.append('\n');
		}
		md.append("## Targets of the issue\n\n| Target | Status | Figures |\n|---|---|---|\n");
		for (Report.Verdict verdict : report.verdicts()) {
			md.append("| ")
				.append(verdict.target())
				.append(" | **")
				.append(verdict.status())
				.append("** | ")
				.append(verdict.figures().replace("|", "/"))
				.append(" |\n");
		}
		md.append("\n## Redis calls in detail\n\n");
		for (ScenarioResult r : report.results()) {
			md.append("- ")
				.append(r.scenario.number())
				.append(' ')
				.append(r.library.id())
				.append(": ")
				.append(report.callBreakdown(r));
			if (!r.iterationOps.isEmpty()) {
				md.append("; iterations ");
				md.append(String.join(" / ",
						r.iterationOps.stream().map((v) -> String.format(Locale.ROOT, "%,.0f", v)).toList()));
				md.append(" ops/s");
			}
			if (!r.violations.isEmpty()) {
				md.append("; **violations**: ").append(String.join("; ", r.violations));
			}
			md.append('\n');
		}
		md.append("\n## Method\n\n");
		md.append(
				"""
						- Every library runs against the same redis-server, which the harness starts on a free loopback port.
						  Each scenario runs library after library on a flushed Redis, each "instance" being built as its users
						  get it, with its own connections. Ours (`ours`, `ours-fast`): a Spring Boot application context with
						  auto-configuration and the starter on the class path, configured only through properties
						  (`spring.data.redis.host/port`, `lock.lease-time`, the row's `lock.await-release`, any
						  `--lock-property`); the harness calls its `LockRegistry` bean, which the starter builds on the Lettuce
						  client of Boot's `LettuceConnectionFactory`. Spring Integration (`si-*`): the same kind of Boot context
						  without our starter, its `RedisLockRegistry` created on Boot's `LettuceConnectionFactory` (`SPIN_LOCK`
						  or `PUB_SUB_LOCK`), with a renewal `TaskScheduler` in scenario 5 only; `si-*` is the version Boot
						  manages, `si71-*` the newest 7.1.x, which needs the Boot 4.1.x line that manages it (Spring Data Redis
						  4.1, Lettuce 7) and so runs with that whole stack in a class loader of its own. Redisson: one
						  `RedissonClient` with its default config (single server) using `RLock.tryLock(wait)` / `tryLock()`
						  without a lease time (watchdog mode). Extra, not judged: `ours-bare`, our registry built with its
						  builder on a bare Lettuce `RedisClient` with the release awaited (how the figures before 2026-12 were
						  taken). Extra, only when named with `--libs`: `lettuce-floor`, not a lock anyone runs but the least an
						  awaited-release lock can do on Boot's Lettuce client (a Boot context without our starter, one connection
						  on its `RedisClient` shared by the instance's threads, per cycle one awaited `SET NX PX` script and one
						  awaited compare-and-delete, nothing else; it never renews); `socket-floor`, the same two calls on a
						  blocking socket of each calling thread's own (as Jedis works: no I/O thread between caller and Redis),
						  which is not the client Boot builds. Every other library keeps the same lease in Redis and renews
						  every lease / 3.
						- Scenarios 1-3: a warm-up, then several iterations; each thread loops acquire (wait up to 30 s),
						  [hold], release until the iteration ends, timing each cycle. Key choice: 1 a fresh key per cycle,
						  2 one of 10,000 keys at random, 3 one key. In scenario 3 every holder checks that it is alone and that
						  fencing tokens strictly increase (where the library has them); handoff latency is the time from the
						  holder's call to release to the next holder's acquire returning; shares count acquisitions per
						  instance. The 1 ms hold parks the thread (no busy spin on 2 cores), which overshoots by ~0.1 ms.
						- Scenario 4: per round, 200 threads (50 per instance) wait on a latch, then all call `tryAcquire` on
						  one key at once. Each loser times its own call (thread start-up excluded); the round time runs from
						  the latch's release to the last loser's answer; the winner holds until all losers have answered.
						- Scenario 5: one instance acquires the locks, then the harness counts the calls made while they are
						  held (nothing but renewal and keep-alive traffic), then releases them.
						- Renewal period: every library renews every lease / 3 (Redisson's watchdog, Spring Integration's
						  renewal task and ours), so scenario 5 divides by that period.
						- Targets: "best peer" is the peer with the highest throughput in that scenario for throughput
						  ratios, and the peer with the lowest value for p99 and for calls per acquisition (the stricter
						  reading).
						- Counting: timed runs leave redis-server's slow log off (logging every command cost it about a fifth
						  of its throughput in the many-users scenario, which would blur every comparison). After the timed
						  iterations of each scenario and library, one more iteration of the same load (at most 3 s; in
						  scenario 4 a third as many rounds) runs with `slowlog-log-slower-than 0`, so the slow log records
						  every command with the address of the client that sent it; commands run by a Lua script carry the
						  script client's address `?:0`. Entries with a real address are client calls (a script call counts
						  once), entries with `?:0` are commands run inside scripts; calls per acquisition divide by that
						  iteration's acquisitions. `INFO commandstats` before/after is the cross-check (Redis 7 counts
						  script-called commands there too); commands it has beyond the slow log (those flagged to skip it,
						  such as EXEC) are added to the client calls. `INFO commandstats` is also taken over the timed
						  iterations: "Redis calls in detail" compares its commands per acquisition with the counted ones.
						  The harness's own connection (named `bench-admin`) and its INFO / SLOWLOG / CONFIG / FLUSHALL
						  commands are excluded.

						""");
		return md.toString();
	}

	static String loadAverage() {
		try {
			return Files.readString(Path.of("/proc/loadavg")).trim();
		}
		catch (IOException ex) {
			return "unknown";
		}
	}

	static String cpuModel() {
		try {
			for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
				if (line.startsWith("model name")) {
					return line.substring(line.indexOf(':') + 1).trim();
				}
			}
		}
		catch (IOException ex) {
			// not Linux
		}
		return "unknown CPU";
	}

	static String version(String groupId, String artifactId) {
		String resource = "META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties";
		try (InputStream in = LockBenchmarks.class.getClassLoader().getResourceAsStream(resource)) {
			if (in != null) {
				Properties properties = new Properties();
				properties.load(in);
				return properties.getProperty("version", "?");
			}
		}
		catch (IOException ex) {
			// fall through
		}
		// jars without Maven metadata (Spring Integration) still carry
		// Implementation-Version
		if (artifactId.equals("spring-integration-redis")) {
			String version = org.springframework.integration.redis.util.RedisLockRegistry.class.getPackage()
				.getImplementationVersion();
			if (version != null) {
				return version;
			}
		}
		return "(version unknown)";
	}

}
