package io.github.userlock.benchmarks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What one scenario measured for one library. */
final class ScenarioResult {

	final Scenario scenario;

	final Library library;

	/**
	 * Acquisitions (or acquire + release cycles) per second over the measured iterations;
	 * NaN if n/a.
	 */
	double opsPerSecond = Double.NaN;

	/** Per-iteration throughput, to show the spread. */
	final List<Double> iterationOps = new ArrayList<>();

	/** Latency percentiles of the measured operation, in nanoseconds. */
	long p50;

	long p99;

	/** Acquisitions the call counts are divided by. */
	long acquisitions;

	CallCounts calls = CallCounts.NONE;

	/**
	 * {@code INFO commandstats} over the timed part (slow log off) and the acquisitions
	 * made in it: the cross-check of {@link #calls}, which come from a separate counting
	 * run.
	 */
	CallCounts timedStats = CallCounts.NONE;

	long timedAcquisitions;

	/** redis-server CPU time over the timed part ({@code INFO cpu}), microseconds. */
	long redisCpuMicros = -1;

	/**
	 * redis-server socket reads over the timed part ({@code INFO stats}), -1 if unknown.
	 */
	long redisReads = -1;

	/** CPU time of the benchmark JVM over the timed part ({@link ProcessCpu}). */
	long clientCpuNanos = -1;

	/**
	 * The whole machine's CPU time over the timed part ({@link MachineCpu}),
	 * {@link MachineCpu#ZERO} where it is not known.
	 */
	MachineCpu machineCpu = MachineCpu.ZERO;

	/** Scenario-specific figures, by name, in insertion order. */
	final Map<String, Double> metrics = new LinkedHashMap<>();

	/** A one-line summary of the scenario-specific figures for the table. */
	String note = "";

	/** Anything that went wrong: overlapping holders, non-increasing tokens, errors. */
	final List<String> violations = new ArrayList<>();

	ScenarioResult(Scenario scenario, Library library) {
		this.scenario = scenario;
		this.library = library;
	}

	double clientCallsPerAcquisition() {
		return (this.acquisitions > 0) ? (double) this.calls.clientTotal() / this.acquisitions : Double.NaN;
	}

	double scriptCallsPerAcquisition() {
		return (this.acquisitions > 0) ? (double) this.calls.scriptCalls() / this.acquisitions : Double.NaN;
	}

	double commandsPerAcquisition() {
		return (this.acquisitions > 0) ? (double) this.calls.commandTotal() / this.acquisitions : Double.NaN;
	}

	/**
	 * Commands Redis executed per acquisition in the timed part
	 * ({@code INFO commandstats}).
	 */
	double timedCommandsPerAcquisition() {
		return (this.timedAcquisitions > 0) ? (double) this.timedStats.statsTotal() / this.timedAcquisitions
				: Double.NaN;
	}

	/** redis-server CPU microseconds per acquisition of the timed part. */
	double redisCpuMicrosPerAcquisition() {
		return (this.timedAcquisitions > 0 && this.redisCpuMicros >= 0)
				? (double) this.redisCpuMicros / this.timedAcquisitions : Double.NaN;
	}

	/** redis-server socket reads per acquisition of the timed part. */
	double redisReadsPerAcquisition() {
		return (this.timedAcquisitions > 0 && this.redisReads >= 0) ? (double) this.redisReads / this.timedAcquisitions
				: Double.NaN;
	}

	/** Benchmark JVM CPU microseconds per acquisition of the timed part. */
	double clientCpuMicrosPerAcquisition() {
		return (this.timedAcquisitions > 0 && this.clientCpuNanos >= 0)
				? this.clientCpuNanos / 1e3 / this.timedAcquisitions : Double.NaN;
	}

	double metric(String name) {
		return this.metrics.getOrDefault(name, Double.NaN);
	}

}
