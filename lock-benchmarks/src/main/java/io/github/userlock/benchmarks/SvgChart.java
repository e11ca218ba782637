package io.github.userlock.benchmarks;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Draws the comparison as a self-contained SVG: throughput per scenario (each scenario on
 * its own scale, bars labelled) and Redis work per acquisition (client calls, solid, plus
 * commands run inside scripts, light; the label is the total commands).
 */
final class SvgChart {

	private static final int WIDTH = 980;

	private static final int PANEL_HEIGHT = 300;

	private static final int LEFT = 40;

	private static final List<Scenario> SCENARIOS = List.of(Scenario.UNCONTENDED, Scenario.MANY_USERS, Scenario.HOT_KEY,
			Scenario.HOT_KEY_1MS, Scenario.BURST);

	private final Report report;

	private final List<Library> libraries;

	SvgChart(Report report, List<Library> libraries) {
		this.report = report;
		this.libraries = libraries;
	}

	static String color(Library library) {
		return switch (library) {
			case OURS -> "#2e7d32";
			case OURS_FAST -> "#f9a825";
			case OURS_BARE -> "#6d4c41";
			case LETTUCE_FLOOR -> "#455a64";
			case SOCKET_FLOOR -> "#37474f";
			case REDISSON -> "#c62828";
			case SI_SPIN -> "#1565c0";
			case SI_PUBSUB -> "#8e24aa";
			case SI_NEWEST_SPIN -> "#00838f";
			case SI_NEWEST_PUBSUB -> "#ad1457";
		};
	}

	private static String lightColor(Library library) {
		return switch (library) {
			case OURS -> "#a5d6a7";
			case OURS_FAST -> "#fff59d";
			case OURS_BARE -> "#bcaaa4";
			case LETTUCE_FLOOR -> "#b0bec5";
			case SOCKET_FLOOR -> "#cfd8dc";
			case REDISSON -> "#ef9a9a";
			case SI_SPIN -> "#90caf9";
			case SI_PUBSUB -> "#ce93d8";
			case SI_NEWEST_SPIN -> "#80deea";
			case SI_NEWEST_PUBSUB -> "#f48fb1";
		};
	}

	String render() {
		StringBuilder legend = new StringBuilder();
		int x = LEFT;
		int y = 14;
		for (Library library : this.libraries) {
			String label = library.id() + ": " + library.description();
			int width = 32 + label.length() * 6;
			if (x > LEFT && x + width > WIDTH) {
				x = LEFT;
				y += 18;
			}
			legend.append(String.format(Locale.ROOT,
					"<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>%n",
					x, y, color(library), x + 16, y + 10, escape(label)));
			x += width;
		}
		int top = y + 36;
		int height = top + 2 * (PANEL_HEIGHT + 60);
		StringBuilder svg = new StringBuilder();
		svg.append(String.format(Locale.ROOT,
				"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">%n",
				WIDTH, height, WIDTH, height));
		svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, height));
		svg.append(legend);
		throughputPanel(svg, top);
		workPanel(svg, top + PANEL_HEIGHT + 60);
		svg.append("</svg>\n");
		return svg.toString();
	}

	private void throughputPanel(StringBuilder svg, int top) {
		List<Scenario> scenarios = SCENARIOS.stream().filter(Scenario::isThroughput).toList();
		title(svg, top, "Throughput (acquisitions/s; each scenario on its own scale, higher is better)");
		int groupWidth = (WIDTH - LEFT - 20) / scenarios.size();
		int base = top + PANEL_HEIGHT;
		int barArea = PANEL_HEIGHT - 50;
		for (int g = 0; g < scenarios.size(); g++) {
			Scenario scenario = scenarios.get(g);
			double max = this.libraries.stream()
				.map((library) -> this.report.find(scenario, library))
				.flatMap(Optional::stream)
				.mapToDouble((r) -> r.opsPerSecond)
				.filter((v) -> !Double.isNaN(v))
				.max()
				.orElse(1);
			int gx = LEFT + g * groupWidth;
			int barWidth = Math.min(40, (groupWidth - 30) / Math.max(1, this.libraries.size()));
			for (int i = 0; i < this.libraries.size(); i++) {
				Library library = this.libraries.get(i);
				Optional<ScenarioResult> result = this.report.find(scenario, library);
				if (result.isEmpty() || Double.isNaN(result.get().opsPerSecond)) {
					continue;
				}
				double value = result.get().opsPerSecond;
				int h = (int) Math.round(value / max * barArea);
				int bx = gx + 15 + i * barWidth;
				bar(svg, bx, base, barWidth - 4, h, color(library));
				barLabel(svg, bx + (barWidth - 4) / 2, base - h - 4, compact(value));
			}
			groupLabel(svg, gx, groupWidth, base, scenario);
		}
		svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>%n", LEFT,
				base, WIDTH - 20, base));
	}

	private static void bar(StringBuilder svg, int x, int base, int width, int height, String fill) {
		svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>%n", x,
				base - height, width, height, fill));
	}

	private static void barLabel(StringBuilder svg, int centerX, int y, String text) {
		svg.append(String.format(Locale.ROOT,
				"<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"10\">%s</text>%n", centerX, y, text));
	}

	private void workPanel(StringBuilder svg, int top) {
		title(svg, top,
				"Redis commands per acquisition (lower is better): client calls (solid) + commands inside scripts (light); label = total");
		int groupWidth = (WIDTH - LEFT - 20) / SCENARIOS.size();
		int base = top + PANEL_HEIGHT;
		int barArea = PANEL_HEIGHT - 50;
		// one scale for scenarios 1-3 (per acquisition); the burst (per round) has its
		// own
		double sharedMax = maxCommands(SCENARIOS.stream().filter(Scenario::isThroughput).toList());
		for (int g = 0; g < SCENARIOS.size(); g++) {
			Scenario scenario = SCENARIOS.get(g);
			double max = scenario.isThroughput() ? sharedMax : maxCommands(List.of(scenario));
			int gx = LEFT + g * groupWidth;
			int barWidth = Math.min(36, (groupWidth - 30) / Math.max(1, this.libraries.size()));
			for (int i = 0; i < this.libraries.size(); i++) {
				Library library = this.libraries.get(i);
				Optional<ScenarioResult> result = this.report.find(scenario, library);
				if (result.isEmpty() || result.get().acquisitions == 0) {
					continue;
				}
				double total = result.get().commandsPerAcquisition();
				double calls = result.get().clientCallsPerAcquisition();
				int h = (int) Math.round(total / max * barArea);
				int hc = (int) Math.round(calls / max * barArea);
				int bx = gx + 15 + i * barWidth;
				bar(svg, bx, base, barWidth - 4, h, lightColor(library));
				bar(svg, bx, base, barWidth - 4, hc, color(library));
				barLabel(svg, bx + (barWidth - 4) / 2, base - h - 4, oneDecimal(total));
			}
			groupLabel(svg, gx, groupWidth, base, scenario);
		}
		svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>%n", LEFT,
				base, WIDTH - 20, base));
	}

	private double maxCommands(List<Scenario> scenarios) {
		return this.report.results()
			.stream()
			.filter((r) -> scenarios.contains(r.scenario) && this.libraries.contains(r.library))
			.mapToDouble(ScenarioResult::commandsPerAcquisition)
			.filter((v) -> !Double.isNaN(v))
			.max()
			.orElse(1);
	}

	private static void title(StringBuilder svg, int top, String text) {
		svg.append(
				String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"13\" font-weight=\"bold\">%s</text>%n",
						LEFT, top + 10, escape(text)));
	}

	private static void groupLabel(StringBuilder svg, int gx, int groupWidth, int base, Scenario scenario) {
		svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
				gx + groupWidth / 2, base + 16, escape(scenario.number() + " " + scenario.id()
						+ ((scenario == Scenario.BURST) ? " (per round, own scale)" : ""))));
	}

	private static String compact(double value) {
		return (value >= 10_000) ? String.format(Locale.ROOT, "%.1fk", value / 1000)
				: String.format(Locale.ROOT, "%.0f", value);
	}

	private static String oneDecimal(double value) {
		return String.format(Locale.ROOT, "%.1f", value);
	}

	private static String escape(String text) {
		return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
	}

}
