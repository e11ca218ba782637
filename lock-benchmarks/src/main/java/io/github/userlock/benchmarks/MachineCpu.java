package io.github.userlock.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * The whole machine's CPU time by state, all processors together, from the first line of
 * {@code /proc/stat} (Linux), in clock ticks: whether a row kept the processors busy
 * (CPU-bound) or left them idle while its threads waited, and what the hypervisor took.
 *
 * @param busy user, nice, system, irq and softirq time (guest time is part of user)
 * @param idle idle and iowait time
 * @param steal time the hypervisor ran something else while this machine wanted to run
 */
record MachineCpu(long busy, long idle, long steal) {

	private static final Path PROC_STAT = Path.of("/proc/stat");

	/** Nothing measured yet: the start of a sum. */
	static final MachineCpu ZERO = new MachineCpu(0, 0, 0);

	/** Now, or {@code null} where {@code /proc/stat} cannot be read (not Linux). */
	static @Nullable MachineCpu now() {
		try {
			List<String> lines = Files.readAllLines(PROC_STAT);
			return lines.isEmpty() ? null : parse(lines.get(0));
		}
		catch (IOException | RuntimeException ex) {
			return null;
		}
	}

	/**
	 * The aggregate line, {@code cpu user nice system idle iowait irq softirq steal ...};
	 * fields a kernel does not report count as 0.
	 */
	static MachineCpu parse(String line) {
		String[] fields = line.trim().split("\\s+");
		if (fields.length < 5 || !fields[0].equals("cpu")) {
			throw new IllegalArgumentException("Not the aggregate cpu line of /proc/stat: '" + line + "'");
		}
		long user = field(fields, 1);
		long nice = field(fields, 2);
		long system = field(fields, 3);
		long idle = field(fields, 4);
		long iowait = field(fields, 5);
		long irq = field(fields, 6);
		long softirq = field(fields, 7);
		long steal = field(fields, 8);
		return new MachineCpu(user + nice + system + irq + softirq, idle + iowait, steal);
	}

	private static long field(String[] fields, int index) {
		return (index < fields.length) ? Long.parseLong(fields[index]) : 0;
	}

	/**
	 * This sum plus the time from {@code before} to {@code after}; unchanged if either is
	 * unknown.
	 */
	MachineCpu plusInterval(@Nullable MachineCpu before, @Nullable MachineCpu after) {
		if (before == null || after == null) {
			return this;
		}
		return new MachineCpu(this.busy + after.busy - before.busy, this.idle + after.idle - before.idle,
				this.steal + after.steal - before.steal);
	}

	private long total() {
		return this.busy + this.idle + this.steal;
	}

	/** Idle share of the machine's CPU time, NaN when nothing was measured. */
	double idleShare() {
		return (total() > 0) ? (double) this.idle / total() : Double.NaN;
	}

	/** Steal share of the machine's CPU time, NaN when nothing was measured. */
	double stealShare() {
		return (total() > 0) ? (double) this.steal / total() : Double.NaN;
	}

}
