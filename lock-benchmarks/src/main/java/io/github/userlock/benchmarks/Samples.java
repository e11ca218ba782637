package io.github.userlock.benchmarks;

import java.util.Arrays;

/**
 * A growable array of latencies in nanoseconds, one per thread, merged and sorted for
 * percentiles.
 */
final class Samples {

	private long[] values = new long[1024];

	private int size;

	void add(long nanos) {
		if (this.size == this.values.length) {
			this.values = Arrays.copyOf(this.values, this.size * 2);
		}
		this.values[this.size++] = nanos;
	}

	int size() {
		return this.size;
	}

	void addAll(Samples other) {
		for (int i = 0; i < other.size; i++) {
			add(other.values[i]);
		}
	}

	/**
	 * The {@code p}-th percentile (0–100) by the nearest-rank method, in nanoseconds; 0
	 * when empty.
	 */
	long percentile(double p) {
		if (this.size == 0) {
			return 0;
		}
		long[] sorted = Arrays.copyOf(this.values, this.size);
		Arrays.sort(sorted);
		int rank = (int) Math.ceil(p / 100.0 * sorted.length);
		return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
	}

	long max() {
		return percentile(100);
	}

}
