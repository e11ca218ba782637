package io.github.userlock.benchmarks;

import java.lang.management.ManagementFactory;

/**
 * CPU time of the benchmark JVM: every client instance of the row, and also the harness's
 * own threads, the JIT compiler and the garbage collector.
 */
final class ProcessCpu {

	private ProcessCpu() {
	}

	/**
	 * CPU time the JVM process has used so far, in nanoseconds
	 * ({@code com.sun.management.OperatingSystemMXBean#getProcessCpuTime}); -1 where the
	 * platform does not report it.
	 */
	static long nanos() {
		if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
			return os.getProcessCpuTime();
		}
		return -1;
	}

}
