package io.github.userlock.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * {@code --profile}: runs each selected throughput scenario for each selected library
 * once (after the usual warm-up) under a JFR recording with the {@code profile} settings,
 * writes the {@code .jfr} file and prints where the time went, per acquire + release
 * cycle: CPU of the calling threads, the Netty I/O threads and the rest of the JVM
 * (thread CPU time), their context switches (thread hand-offs), redis-server CPU
 * ({@code INFO cpu}), Redis calls and time inside Redis per script call
 * ({@code INFO commandstats}), the threads' parks (JFR {@code jdk.ThreadPark}, every one)
 * and the hottest frames of the Java code (JFR execution samples; time in native code and
 * in the kernel, such as socket writes and {@code epoll_wait}, is not sampled there but
 * is in the thread CPU time).
 */
final class Profiler {

	private static final int TOP_FRAMES = 12;

	private final ScenarioRunner runner;

	private final RedisAdmin admin;

	private final Path out;

	Profiler(ScenarioRunner runner, RedisAdmin admin, Path out) throws IOException, ParseException {
		this.runner = runner;
		this.admin = admin;
		this.out = out;
		// JFR's first recording loads and compiles a lot: not inside a measured window
		try (Recording warmUp = newRecording()) {
			warmUp.start();
			warmUp.stop();
		}
	}

	/**
	 * The {@code profile} settings, execution samples every millisecond and every thread
	 * park.
	 */
	static Recording newRecording() throws IOException, ParseException {
		Recording recording = new Recording(Configuration.getConfiguration("profile"));
		recording.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(1));
		recording.enable("jdk.ThreadPark").withThreshold(Duration.ZERO).withoutStackTrace();
		return recording;
	}

	void profile(Scenario scenario, Library library, Duration duration) throws Exception {
		Files.createDirectories(this.out);
		Path file = this.out.resolve("profile-" + scenario.id() + "-" + library.id() + ".jfr");
		System.out.printf(Locale.ROOT, "%n=== profile: %s %s / %s, %s under JFR ===%n", scenario.number(),
				scenario.title(), library.id(), duration);
		this.runner.profile(scenario, library, duration, new Window(file));
	}

	/**
	 * Two iterations: the first without a recording, for the counters (CPU, context
	 * switches, Redis), the second under JFR, for the parks and the frames (a recording
	 * costs CPU itself, so its counters would not be the benchmark's).
	 */
	private final class Window implements ScenarioRunner.Probe {

		private final Path file;

		private Recording recording;

		private RedisAdmin.Window redisWindow;

		private long redisCpu;

		private long processCpu;

		private Map<Long, ThreadStats.Counters> javaThreads;

		private Map<Long, ThreadStats.Counters> nativeThreads;

		private long start;

		Window(Path file) {
			this.file = file;
		}

		@Override
		public int iterations() {
			return 2;
		}

		@Override
		public void begin(int iteration) throws IOException, ParseException {
			if (iteration == 1) {
				this.recording = newRecording();
				this.recording.setDestination(this.file);
				this.recording.start();
			}
			else {
				this.redisWindow = Profiler.this.admin.beginStats();
				this.redisCpu = Profiler.this.admin.serverCpuMicros();
				this.javaThreads = ThreadStats.javaThreads();
				this.nativeThreads = ThreadStats.nativeThreads();
				this.processCpu = ProcessCpu.nanos();
			}
			this.start = System.nanoTime();
		}

		@Override
		public void end(int iteration, long acquisitions, Map<String, ThreadStats.Usage> callers) throws IOException {
			double seconds = (System.nanoTime() - this.start) / 1e9;
			if (iteration == 1) {
				this.recording.stop();
				this.recording.close();
				System.out.printf(Locale.ROOT, "under JFR (a second iteration): %,d cycles in %.1f s (%,.0f/s)%n",
						acquisitions, seconds, acquisitions / seconds);
				summarizeRecording(Math.max(acquisitions, 1));
				System.out.println("JFR recording: " + this.file.toAbsolutePath());
				return;
			}
			long process = ProcessCpu.nanos() - this.processCpu;
			Map<String, ThreadStats.Usage> usage = ThreadStats.newUsage();
			Map<Long, ThreadStats.Counters> javaNow = ThreadStats.javaThreads();
			ThreadStats.addDelta(this.javaThreads, javaNow, usage);
			ThreadStats.addDelta(this.nativeThreads, ThreadStats.nativeThreads(), usage);
			long redis = Profiler.this.admin.serverCpuMicros() - this.redisCpu;
			CallCounts calls = this.redisWindow.end();
			// the calling threads ended before the snapshot: theirs come from themselves
			usage.put(ThreadStats.CALLERS, callers.get(ThreadStats.CALLERS));
			print(acquisitions, seconds, process, usage, redis, calls);
			printBusiestThreads(javaNow, Math.max(acquisitions, 1));
		}

		/**
		 * The live threads (the callers excepted: they end with the iteration) that used
		 * the most CPU.
		 */
		private void printBusiestThreads(Map<Long, ThreadStats.Counters> now, double cycles) {
			Map<String, Long> byName = new HashMap<>();
			now.forEach((id, counters) -> {
				ThreadStats.Counters then = this.javaThreads.get(id);
				if (then != null && then.name().equals(counters.name())) {
					byName.merge(counters.name(), counters.cpuNanos() - then.cpuNanos(), Long::sum);
				}
			});
			System.out.print("busiest live threads besides the callers (CPU µs/cycle):");
			byName.entrySet()
				.stream()
				.sorted(Map.Entry.<String, Long>comparingByValue().reversed())
				.limit(8)
				.forEach((e) -> System.out.printf(Locale.ROOT, " %s %.1f;", e.getKey(), e.getValue() / 1e3 / cycles));
			System.out.println();
		}

		private void print(long acquisitions, double seconds, long process, Map<String, ThreadStats.Usage> usage,
				long redisCpuMicros, CallCounts calls) {
			double n = Math.max(acquisitions, 1);
			System.out.printf(Locale.ROOT, "without a recording: %,d acquire + release cycles in %.1f s (%,.0f/s)%n",
					acquisitions, seconds, acquisitions / seconds);
			System.out.printf(Locale.ROOT, "client CPU per cycle (JVM process): %.1f µs%n", process / 1e3 / n);
			long named = 0;
			for (Map.Entry<String, ThreadStats.Usage> e : usage.entrySet()) {
				ThreadStats.Usage u = e.getValue();
				if (!e.getKey().equals(ThreadStats.OTHER)) {
					named += u.cpuNanos.get();
				}
				System.out.printf(Locale.ROOT,
						"  %-18s CPU %6.1f µs/cycle, context switches %.2f voluntary + %.2f involuntary per cycle%n",
						e.getKey(),
						e.getKey().equals(ThreadStats.OTHER) ? (process - named) / 1e3 / n : u.cpuNanos.get() / 1e3 / n,
						u.voluntary.get() / n, u.involuntary.get() / n);
			}
			System.out.printf(Locale.ROOT, "  (%s CPU: the process total minus the two groups above)%n",
					ThreadStats.OTHER);
			System.out.printf(Locale.ROOT, "redis-server CPU per cycle (INFO cpu): %.1f µs (%.0f%% of a core)%n",
					redisCpuMicros / n, redisCpuMicros / 1e4 / seconds);
			StringBuilder perCommand = new StringBuilder();
			calls.commandStats().forEach((name, count) -> {
				long micros = calls.commandMicros().getOrDefault(name, 0L);
				perCommand.append(String.format(Locale.ROOT, "%n  %-10s %.2f calls/cycle, %.2f µs/call in Redis", name,
						count / n, (double) micros / count));
			});
			System.out.printf(Locale.ROOT,
					"Redis commands (INFO commandstats; script times include their commands):%s%n", perCommand);
		}

		private void summarizeRecording(double cycles) throws IOException {
			Map<String, Map<String, Integer>> frames = new HashMap<>();
			Map<String, Integer> samples = new HashMap<>();
			Map<String, Integer> parks = new HashMap<>();
			for (RecordedEvent event : RecordingFile.readAllEvents(this.file)) {
				String type = event.getEventType().getName();
				if (type.equals("jdk.ExecutionSample")) {
					String group = group(event.getThread("sampledThread"));
					samples.merge(group, 1, Integer::sum);
					if (event.getStackTrace() != null && !event.getStackTrace().getFrames().isEmpty()) {
						RecordedFrame top = event.getStackTrace().getFrames().get(0);
						String frame = top.getMethod().getType().getName() + "." + top.getMethod().getName();
						frames.computeIfAbsent(group, (g) -> new HashMap<>()).merge(frame, 1, Integer::sum);
					}
				}
				else if (type.equals("jdk.ThreadPark") && event.getThread() != null) {
					parks.merge(group(event.getThread()), 1, Integer::sum);
				}
			}
			System.out.print("thread parks per cycle (JFR jdk.ThreadPark):");
			for (String group : ThreadStats.GROUPS) {
				System.out.printf(Locale.ROOT, " %s %.2f;", group, parks.getOrDefault(group, 0) / cycles);
			}
			System.out.println();
			for (String group : ThreadStats.GROUPS) {
				int total = samples.getOrDefault(group, 0);
				System.out.printf(Locale.ROOT, "hottest Java frames, %s (%d execution samples, self time):%n", group,
						total);
				frames.getOrDefault(group, Map.of())
					.entrySet()
					.stream()
					.sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
					.limit(TOP_FRAMES)
					.forEach((e) -> System.out.printf(Locale.ROOT, "  %5.1f%%  %s%n", 100.0 * e.getValue() / total,
							e.getKey()));
			}
		}

		private static String group(RecordedThread thread) {
			if (thread == null) {
				return ThreadStats.OTHER;
			}
			String name = (thread.getJavaName() != null) ? thread.getJavaName() : thread.getOSName();
			return ThreadStats.group((name != null) ? name : "");
		}

	}

	/** The scenarios {@code --profile} runs: the throughput ones (1-3). */
	static List<Scenario> profilable(Collection<Scenario> scenarios) {
		return scenarios.stream().filter(Scenario::isThroughput).toList();
	}

}
