package io.github.userlock.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * CPU time and context switches of the benchmark's threads, by group: the calling threads
 * of the scenario ({@code bench-*}), the Netty event loops of the clients (Lettuce's and
 * Redisson's I/O threads) and the rest of the JVM. A voluntary context switch is a thread
 * going to sleep (a caller parking for an answer, an event loop waiting in
 * {@code epoll_wait}/{@code select}); counted per acquisition they show the thread
 * hand-offs each call costs. Context switches come from Linux ({@code /proc}); elsewhere
 * they read 0.
 */
final class ThreadStats {

	static final String CALLERS = "callers";

	static final String IO = "Netty I/O";

	static final String OTHER = "other JVM threads";

	private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

	private ThreadStats() {
	}

	/**
	 * The group of a thread by its name (or its first 15 characters, as Linux has it).
	 */
	static String group(String name) {
		if (name.startsWith("bench-")) {
			return CALLERS;
		}
		if (name.startsWith("lettuce-") || name.startsWith("redisson-netty") || name.contains("EventLoop")) {
			return IO;
		}
		return OTHER;
	}

	/** What a group of threads used. */
	static final class Usage {

		final AtomicLong cpuNanos = new AtomicLong();

		final AtomicLong voluntary = new AtomicLong();

		final AtomicLong involuntary = new AtomicLong();

		void add(long cpu, long vol, long invol) {
			this.cpuNanos.addAndGet(cpu);
			this.voluntary.addAndGet(vol);
			this.involuntary.addAndGet(invol);
		}

	}

	/** One thread's counters at one moment. */
	record Counters(String name, long cpuNanos, long voluntary, long involuntary) {

		String group() {
			return ThreadStats.group(this.name);
		}

	}

	/** The calling thread's own counters. */
	static Counters currentThread() {
		long[] switches = switches(Path.of("/proc/thread-self/status"));
		return new Counters(Thread.currentThread().getName(), THREADS.getCurrentThreadCpuTime(), switches[0],
				switches[1]);
	}

	/** CPU time of the live Java threads, by Java thread id (no context switches). */
	static Map<Long, Counters> javaThreads() {
		Map<Long, Counters> threads = new LinkedHashMap<>();
		long[] ids = THREADS.getAllThreadIds();
		ThreadInfo[] infos = THREADS.getThreadInfo(ids);
		for (int i = 0; i < ids.length; i++) {
			if (infos[i] != null) {
				threads.put(ids[i], new Counters(infos[i].getThreadName(), THREADS.getThreadCpuTime(ids[i]), 0, 0));
			}
		}
		return threads;
	}

	/**
	 * Context switches of the live native threads, by Linux thread id (no CPU time; the
	 * name is Linux's first 15 characters of the Java name).
	 */
	static Map<Long, Counters> nativeThreads() {
		Map<Long, Counters> threads = new LinkedHashMap<>();
		Path tasks = Path.of("/proc/self/task");
		if (!Files.isDirectory(tasks)) {
			return threads;
		}
		try (Stream<Path> list = Files.list(tasks)) {
			list.forEach((task) -> {
				try {
					String comm = Files.readString(task.resolve("comm")).trim();
					long[] s = switches(task.resolve("status"));
					threads.put(Long.parseLong(task.getFileName().toString()), new Counters(comm, 0, s[0], s[1]));
				}
				catch (IOException | RuntimeException ex) {
					// the thread ended meanwhile
				}
			});
		}
		catch (IOException ex) {
			// no counters
		}
		return threads;
	}

	/**
	 * Adds to {@code usage} what the threads alive at both snapshots (same id, same name)
	 * used in between.
	 */
	static void addDelta(Map<Long, Counters> before, Map<Long, Counters> after, Map<String, Usage> usage) {
		after.forEach((id, now) -> {
			Counters then = before.get(id);
			if (then != null && then.name().equals(now.name())) {
				usage.get(now.group())
					.add(now.cpuNanos() - then.cpuNanos(), now.voluntary() - then.voluntary(),
							now.involuntary() - then.involuntary());
			}
		});
	}

	/** Adds what the calling thread used since {@code start} to {@code usage}. */
	static void addSince(Counters start, Map<String, Usage> usage) {
		Counters now = currentThread();
		usage.get(now.group())
			.add(now.cpuNanos() - start.cpuNanos(), now.voluntary() - start.voluntary(),
					now.involuntary() - start.involuntary());
	}

	static final String[] GROUPS = { CALLERS, IO, OTHER };

	/** An empty tally for every group. */
	static Map<String, Usage> newUsage() {
		Map<String, Usage> usage = new LinkedHashMap<>();
		for (String group : GROUPS) {
			usage.put(group, new Usage());
		}
		return usage;
	}

	private static long[] switches(Path status) {
		long voluntary = 0;
		long involuntary = 0;
		try {
			for (String line : Files.readAllLines(status)) {
				if (line.startsWith("voluntary_ctxt_switches:")) {
					voluntary = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
				}
				else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
					involuntary = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
				}
			}
		}
		catch (IOException | RuntimeException ex) {
			// not Linux, or the thread ended
		}
		return new long[] { voluntary, involuntary };
	}

}
