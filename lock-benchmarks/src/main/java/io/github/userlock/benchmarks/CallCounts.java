package io.github.userlock.benchmarks;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The Redis commands one measured window caused, by command name (see {@link RedisAdmin}
 * for the method).
 *
 * @param clientCalls commands the clients sent (round trips; a script call counts once)
 * @param inScripts commands run inside Lua scripts
 * @param commandStats the {@code INFO commandstats} delta, both kinds together
 * @param commandMicros the {@code INFO commandstats} delta of {@code usec}: time Redis
 * spent executing each command (a script's includes the commands it ran)
 * @param truncated whether the slow log overflowed (the split is then incomplete)
 */
record CallCounts(Map<String, Long> clientCalls, Map<String, Long> inScripts, Map<String, Long> commandStats,
		Map<String, Long> commandMicros, boolean truncated) {

	static final Set<String> SCRIPT_COMMANDS = Set.of("eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro");

	static final CallCounts NONE = new CallCounts(Map.of(), Map.of(), Map.of(), Map.of(), false);

	long clientTotal() {
		return total(this.clientCalls);
	}

	long scriptCalls() {
		return this.clientCalls.entrySet()
			.stream()
			.filter((e) -> SCRIPT_COMMANDS.contains(e.getKey()))
			.mapToLong(Map.Entry::getValue)
			.sum();
	}

	long inScriptTotal() {
		return total(this.inScripts);
	}

	/** Every command Redis executed: client calls plus the commands inside scripts. */
	long commandTotal() {
		return clientTotal() + inScriptTotal();
	}

	/** Every command Redis executed, from {@code INFO commandstats}. */
	long statsTotal() {
		return total(this.commandStats);
	}

	/**
	 * Microseconds Redis spent per call of the script commands (EVAL, EVALSHA, ...), from
	 * {@code INFO commandstats}; NaN without script calls.
	 */
	double scriptMicrosPerCall() {
		long calls = 0;
		long micros = 0;
		for (String name : SCRIPT_COMMANDS) {
			calls += this.commandStats.getOrDefault(name, 0L);
			micros += this.commandMicros.getOrDefault(name, 0L);
		}
		return (calls > 0) ? (double) micros / calls : Double.NaN;
	}

	CallCounts plus(CallCounts other) {
		return new CallCounts(sum(this.clientCalls, other.clientCalls), sum(this.inScripts, other.inScripts),
				sum(this.commandStats, other.commandStats), sum(this.commandMicros, other.commandMicros),
				this.truncated || other.truncated);
	}

	private static long total(Map<String, Long> counts) {
		return counts.values().stream().mapToLong(Long::longValue).sum();
	}

	private static Map<String, Long> sum(Map<String, Long> a, Map<String, Long> b) {
		Map<String, Long> sum = new TreeMap<>(a);
		b.forEach((name, calls) -> sum.merge(name, calls, Long::sum));
		return sum;
	}

}
