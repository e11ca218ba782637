package io.github.userlock.benchmarks;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

/**
 * Turns results into the table, the ratios to the best peer and the verdict on each
 * target of the issue.
 */
final class Report {

	private final List<ScenarioResult> results;

	Report(List<ScenarioResult> results) {
		this.results = results;
	}

	List<ScenarioResult> results() {
		return this.results;
	}

	Optional<ScenarioResult> find(Scenario scenario, Library library) {
		return this.results.stream().filter((r) -> r.scenario == scenario && r.library == library).findFirst();
	}

	List<ScenarioResult> peers(Scenario scenario) {
		return this.results.stream().filter((r) -> r.scenario == scenario && r.library.isPeer()).toList();
	}

	/** The peer with the highest throughput in a scenario. */
	Optional<ScenarioResult> bestPeer(Scenario scenario) {
		return peers(scenario).stream()
			.filter((r) -> !Double.isNaN(r.opsPerSecond))
			.max(Comparator.comparingDouble((ScenarioResult r) -> r.opsPerSecond));
	}

	/** The lowest value of {@code metric} among the peers of a scenario. */
	Optional<ScenarioResult> lowestPeer(Scenario scenario, ToDoubleFunction<ScenarioResult> metric) {
		return peers(scenario).stream()
			.filter((r) -> !Double.isNaN(metric.applyAsDouble(r)))
			.min(Comparator.comparingDouble(metric));
	}

	// ---- table
	// -------------------------------------------------------------------------------------

	static final String[] HEADER = { "Scenario", "Library", "ops/s", "p50", "p99", "calls/acq", "scripts/acq",
			"cmds/acq", "Redis CPU/acq", "client CPU/acq", "Details" };

	/** Columns right-aligned in the console table (the numbers). */
	private static final int FIRST_NUMBER = 2;

	private static final int LAST_NUMBER = 9;

	List<String[]> rows() {
		List<String[]> rows = new ArrayList<>();
		for (ScenarioResult r : this.results) {
			boolean perAcquisition = r.acquisitions > 0;
			rows.add(new String[] { r.scenario.number() + " " + r.scenario.id(), r.library.id(),
					Double.isNaN(r.opsPerSecond) ? "-" : String.format(Locale.ROOT, "%,.0f", r.opsPerSecond),
					(r.p50 > 0) ? micros(r.p50) : "-", (r.p99 > 0) ? micros(r.p99) : "-",
					perAcquisition ? decimal(r.clientCallsPerAcquisition()) : "-",
					perAcquisition ? decimal(r.scriptCallsPerAcquisition()) : "-",
					perAcquisition ? decimal(r.commandsPerAcquisition()) : "-",
					microsDecimal(r.redisCpuMicrosPerAcquisition()), microsDecimal(r.clientCpuMicrosPerAcquisition()),
					r.note + (r.violations.isEmpty() ? "" : " VIOLATIONS: " + r.violations.size()) });
		}
		return rows;
	}

	String consoleTable() {
		List<String[]> rows = rows();
		int[] widths = new int[HEADER.length];
		for (int i = 0; i < HEADER.length; i++) {
			widths[i] = HEADER[i].length();
			for (String[] row : rows) {
				widths[i] = Math.max(widths[i], row[i].length());
			}
		}
		StringBuilder sb = new StringBuilder();
		appendRow(sb, HEADER, widths);
		StringBuilder rule = new StringBuilder();
		for (int width : widths) {
			rule.append("-".repeat(width)).append("-+-");
		}
		sb.append(rule, 0, rule.length() - 3).append('\n');
		for (String[] row : rows) {
			appendRow(sb, row, widths);
		}
		return sb.toString();
	}

	private static void appendRow(StringBuilder sb, String[] row, int[] widths) {
		for (int i = 0; i < row.length; i++) {
			boolean number = i >= FIRST_NUMBER && i <= LAST_NUMBER;
			String cell = number ? " ".repeat(widths[i] - row[i].length()) + row[i]
					: row[i] + ((i < row.length - 1) ? " ".repeat(widths[i] - row[i].length()) : "");
			sb.append(cell).append((i < row.length - 1) ? " | " : "\n");
		}
	}

	String markdownTable() {
		StringBuilder sb = new StringBuilder();
		sb.append("| ").append(String.join(" | ", HEADER)).append(" |\n");
		sb.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
		for (String[] row : rows()) {
			sb.append("| ").append(String.join(" | ", row)).append(" |\n");
		}
		return sb.toString();
	}

	// ---- ratios
	// ------------------------------------------------------------------------------------

	List<String> ratios() {
		List<String> lines = new ArrayList<>();
		for (Library variant : List.of(Library.OURS, Library.OURS_FAST, Library.OURS_BARE, Library.LETTUCE_FLOOR,
				Library.SOCKET_FLOOR)) {
			ratios(variant, lines);
		}
		return lines;
	}

	private void ratios(Library variant, List<String> lines) {
		for (Scenario scenario : Scenario.values()) {
			Optional<ScenarioResult> ours = find(scenario, variant);
			if (ours.isEmpty() || peers(scenario).isEmpty()) {
				continue;
			}
			if (scenario.isThroughput()) {
				ScenarioResult best = bestPeer(scenario).orElseThrow();
				lines.add(String.format(Locale.ROOT, "%s %s: %s %,.0f ops/s vs best peer %s %,.0f ops/s = %.2fx",
						scenario.number(), scenario.id(), variant.label(), ours.get().opsPerSecond, best.library.id(),
						best.opsPerSecond, ours.get().opsPerSecond / best.opsPerSecond));
			}
			else if (scenario == Scenario.BURST) {
				ScenarioResult best = lowestPeer(scenario, (r) -> r.metric("roundP50Millis")).orElseThrow();
				lines.add(String.format(Locale.ROOT,
						"%s %s: all losers answered after %.2f ms (%s) vs %.2f ms (best peer %s) = %.2fx faster",
						scenario.number(), scenario.id(), ours.get().metric("roundP50Millis"), variant.label(),
						best.metric("roundP50Millis"), best.library.id(),
						best.metric("roundP50Millis") / ours.get().metric("roundP50Millis")));
			}
			else if (scenario == Scenario.LONG_HOLDS) {
				ScenarioResult best = lowestPeer(scenario, (r) -> r.metric("renewalScriptCallsPerSecond"))
					.orElseThrow();
				lines.add(String.format(Locale.ROOT, "%s %s: renewal script calls/s %s %.2f vs best peer %s %.2f",
						scenario.number(), scenario.id(), variant.label(),
						ours.get().metric("renewalScriptCallsPerSecond"), best.library.id(),
						best.metric("renewalScriptCallsPerSecond")));
			}
		}
	}

	// ---- targets
	// -----------------------------------------------------------------------------------

	record Verdict(String target, String status, String figures) {
	}

	/**
	 * The verdicts for {@code ours} (the starter with the contract,
	 * {@code lock.await-release=true}), then for the opt-in {@code ours-fast} if it ran.
	 * Only peers built as their users get them count as peers; {@code ours-bare} is not
	 * judged.
	 */
	List<Verdict> verdicts() {
		List<Verdict> verdicts = new ArrayList<>();
		verdicts(Library.OURS, verdicts);
		if (this.results.stream().anyMatch((r) -> r.library == Library.OURS_FAST)) {
			List<Verdict> fast = new ArrayList<>();
			verdicts(Library.OURS_FAST, fast);
			fast.stream()
				.filter((v) -> !v.target().startsWith("safety"))
				.map((v) -> new Verdict("[" + Library.OURS_FAST.label() + "] " + v.target(), v.status(), v.figures()))
				.forEach(verdicts::add);
		}
		return verdicts;
	}

	/**
	 * The targets of the performance issue ("Performance under the full contract"): for
	 * the defaults, and for the opt-in fast mode its own uncontended factor.
	 */
	private void verdicts(Library variant, List<Verdict> verdicts) {
		throughputTarget(variant, verdicts, Scenario.UNCONTENDED, (variant == Library.OURS_FAST) ? 1.6 : 1.3);
		p99Target(variant, verdicts, Scenario.UNCONTENDED);
		throughputTarget(variant, verdicts, Scenario.MANY_USERS, 1.6);
		p99Target(variant, verdicts, Scenario.MANY_USERS);
		throughputTarget(variant, verdicts, Scenario.HOT_KEY, 5.0);
		throughputTarget(variant, verdicts, Scenario.HOT_KEY_1MS, 1.2);
		for (Scenario scenario : List.of(Scenario.UNCONTENDED, Scenario.MANY_USERS)) {
			redisCpuTarget(variant, verdicts, scenario);
		}
		for (Scenario scenario : List.of(Scenario.HOT_KEY, Scenario.HOT_KEY_1MS)) {
			Optional<ScenarioResult> ours = find(scenario, variant);
			Optional<ScenarioResult> lowest = lowestPeer(scenario, ScenarioResult::clientCallsPerAcquisition);
			String target = scenario.number() + " " + scenario.id()
					+ ": Redis calls per acquisition below the best peer's"
					+ ((scenario == Scenario.HOT_KEY) ? " and at most 0.5" : "");
			if (ours.isEmpty() || lowest.isEmpty()) {
				verdicts.add(new Verdict(target, "NOT MEASURED", "needs ours and at least one peer"));
			}
			else {
				double o = ours.get().clientCallsPerAcquisition();
				double p = lowest.get().clientCallsPerAcquisition();
				boolean met = o < p && (scenario != Scenario.HOT_KEY || o <= 0.5);
				verdicts.add(new Verdict(target, status(met), String.format(Locale.ROOT,
						"%s %.2f vs %s %.2f calls/acquisition", variant.id(), o, lowest.get().library.id(), p)));
			}
			String fair = scenario.number() + " " + scenario.id()
					+ ": every instance gets at least 15% of the acquisitions";
			verdicts.add(ours
				.map((r) -> new Verdict(fair, status(r.metric("minShare") >= 0.15),
						String.format(Locale.ROOT, "smallest share %.1f%% (%s)", r.metric("minShare") * 100, r.note)))
				.orElse(new Verdict(fair, "NOT MEASURED", variant.id() + " not run")));
		}
		Optional<ScenarioResult> burst = find(Scenario.BURST, variant);
		String loser = "4 burst: each loser's call returns within 1 ms (p99)";
		verdicts.add(burst
			.map((r) -> new Verdict(loser, status(r.p99 <= 1_000_000),
					"loser call p50 " + micros(r.p50) + ", p99 " + micros(r.p99)))
			.orElse(new Verdict(loser, "NOT MEASURED", variant.id() + " not run")));
		String scripts = "4 burst: at most half the best peer's script calls per round";
		Optional<ScenarioResult> fewest = lowestPeer(Scenario.BURST, (r) -> r.metric("scriptCallsPerInstancePerRound"));
		verdicts.add(burst.flatMap((r) -> fewest.map((p) -> {
			double o = r.metric("scriptCallsPerInstancePerRound");
			double q = p.metric("scriptCallsPerInstancePerRound");
			return new Verdict(scripts, status(o <= q / 2), String.format(Locale.ROOT,
					"%.2f vs %s %.2f script calls per instance per round", o, p.library.id(), q));
		})).orElse(new Verdict(scripts, "NOT MEASURED", "needs ours and at least one peer")));
		String renewal = "5 long-holds: at most 1 script call per 100 locks per renewal period";
		verdicts.add(find(Scenario.LONG_HOLDS, variant)
			.map((r) -> (r.metric("renewalPeriods") < 2)
					? new Verdict(renewal, "NOT MEASURED", "hold shorter than 2 renewal periods: " + r.note)
					: new Verdict(renewal, status(r.metric("scriptCallsPer100LocksPerPeriod") <= 1.0), r.note))
			.orElse(new Verdict(renewal, "NOT MEASURED", variant.id() + " not run")));
		List<String> broken = new ArrayList<>();
		for (ScenarioResult r : this.results) {
			if (!r.violations.isEmpty()) {
				broken.add(r.scenario.number() + " " + r.library.id() + ": " + r.violations.get(0));
			}
		}
		verdicts.add(new Verdict("safety: one holder at a time, increasing fencing tokens, no errors (all libraries)",
				broken.isEmpty() ? "MET" : "BROKEN",
				broken.isEmpty() ? "no violation seen" : String.join("; ", broken)));
	}

	private void throughputTarget(Library variant, List<Verdict> verdicts, Scenario scenario, double factor) {
		String target = String.format(Locale.ROOT, "%s %s: throughput >= %.1fx the best peer", scenario.number(),
				scenario.id(), factor);
		Optional<ScenarioResult> ours = find(scenario, variant);
		Optional<ScenarioResult> best = bestPeer(scenario);
		if (ours.isEmpty() || best.isEmpty()) {
			verdicts.add(new Verdict(target, "NOT MEASURED", "needs ours and at least one peer"));
			return;
		}
		double ratio = ours.get().opsPerSecond / best.get().opsPerSecond;
		verdicts.add(new Verdict(target, status(ratio >= factor),
				String.format(Locale.ROOT, "%s %,.0f vs %s %,.0f ops/s = %.2fx", variant.id(), ours.get().opsPerSecond,
						best.get().library.id(), best.get().opsPerSecond, ratio)));
	}

	private void redisCpuTarget(Library variant, List<Verdict> verdicts, Scenario scenario) {
		String target = scenario.number() + " " + scenario.id()
				+ ": Redis CPU per acquisition no more than the best peer's";
		Optional<ScenarioResult> ours = find(scenario, variant);
		Optional<ScenarioResult> lowest = lowestPeer(scenario, ScenarioResult::redisCpuMicrosPerAcquisition);
		if (ours.isEmpty() || lowest.isEmpty()) {
			verdicts.add(new Verdict(target, "NOT MEASURED", "needs ours and at least one peer"));
			return;
		}
		double o = ours.get().redisCpuMicrosPerAcquisition();
		double p = lowest.get().redisCpuMicrosPerAcquisition();
		verdicts.add(new Verdict(target, status(o <= p),
				String.format(Locale.ROOT, "%s %.1f µs vs %s %.1f µs", variant.id(), o, lowest.get().library.id(), p)));
	}

	private void p99Target(Library variant, List<Verdict> verdicts, Scenario scenario) {
		String target = scenario.number() + " " + scenario.id()
				+ ": p99 no worse than the best peer's (lowest peer p99)";
		Optional<ScenarioResult> ours = find(scenario, variant);
		Optional<ScenarioResult> best = lowestPeer(scenario, (r) -> r.p99);
		if (ours.isEmpty() || best.isEmpty()) {
			verdicts.add(new Verdict(target, "NOT MEASURED", "needs ours and at least one peer"));
			return;
		}
		verdicts.add(new Verdict(target, status(ours.get().p99 <= best.get().p99), variant.id() + " "
				+ micros(ours.get().p99) + " vs " + best.get().library.id() + " " + micros(best.get().p99)));
	}

	private static String status(boolean met) {
		return met ? "MET" : "MISSED";
	}

	// ---- call breakdown
	// ----------------------------------------------------------------------------

	String callBreakdown(ScenarioResult r) {
		String counted = "counted over " + r.acquisitions + " acquisitions: client " + describe(r.calls.clientCalls())
				+ "; in scripts " + describe(r.calls.inScripts())
				+ (r.calls.truncated() ? " (slow log overflowed: split incomplete)" : "");
		if (r.timedAcquisitions > 0 && r.acquisitions > 0) {
			counted += String.format(Locale.ROOT,
					"; cross-check, commands executed per acquisition: %.2f counted, %.2f in the timed part",
					r.commandsPerAcquisition(), r.timedCommandsPerAcquisition());
		}
		double scriptMicros = r.timedStats.scriptMicrosPerCall();
		if (!Double.isNaN(scriptMicros)) {
			counted += String.format(Locale.ROOT, "; in Redis per script call (commandstats, timed part) %.2f µs",
					scriptMicros);
		}
		double reads = r.redisReadsPerAcquisition();
		if (!Double.isNaN(reads)) {
			counted += String.format(Locale.ROOT,
					"; Redis socket reads per acquisition (INFO stats, timed part) %.3f against %.2f client calls",
					reads, r.clientCallsPerAcquisition());
		}
		double idle = r.machineCpu.idleShare();
		if (!Double.isNaN(idle)) {
			counted += String.format(Locale.ROOT, "; machine idle %.1f%%, steal %.2f%% (/proc/stat, timed part)",
					100 * idle, 100 * r.machineCpu.stealShare());
		}
		return counted;
	}

	private static String describe(Map<String, Long> counts) {
		if (counts.isEmpty()) {
			return "none";
		}
		StringBuilder sb = new StringBuilder();
		counts.entrySet()
			.stream()
			.sorted(Map.Entry.<String, Long>comparingByValue().reversed())
			.forEach((
					e) -> sb.append((sb.length() > 0) ? ", " : "").append(e.getKey()).append(' ').append(e.getValue()));
		return sb.toString();
	}

	// ---- formatting
	// --------------------------------------------------------------------------------

	static String micros(long nanos) {
		if (nanos >= 10_000_000) {
			return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
		}
		if (nanos >= 1_000_000) {
			return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
		}
		return String.format(Locale.ROOT, "%d µs", Math.round(nanos / 1e3));
	}

	/** Microseconds with one decimal, or {@code -}. */
	static String microsDecimal(double micros) {
		return Double.isNaN(micros) ? "-" : String.format(Locale.ROOT, "%.1f µs", micros);
	}

	static String decimal(double value) {
		return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%.2f", value);
	}

}
