package io.github.userlock.benchmarks;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Command-line options; {@code --help} prints them. */
final class BenchmarkOptions {

	static final String USAGE = """
			Usage: java -jar lock-benchmarks/target/lock-benchmarks.jar [options]
			  --libs=ours,ours-fast,redisson,si-spin   rows to compare (default: all but the floors): ours (the starter,
			                                           lock.await-release=true), ours-fast (the opt-in
			                                           lock.await-release=false), ours-bare (extra: bare client),
			                                           redisson, si-spin, si-pubsub (Spring Integration as Boot
			                                           manages it), si71-spin, si71-pubsub (newest 7.1.x);
			                                           lettuce-floor, socket-floor (extras, only when named:
			                                           two awaited script calls per cycle and nothing else, on
			                                           Boot's Lettuce client / on a blocking socket per thread)
			  --lock-property=lock.name=value          a lock.* property for the starter rows (repeatable)
			  --scenarios=1,2,3,4,5                    or uncontended,many-users,hot-key,hot-key-1ms,burst,long-holds
			  --quick                                  short run: warm-up 1s, 2 iterations of 2s, 10 burst rounds, 20s holds
			  --warmup=5s --iterations=3 --duration=5s warm-up and measured iterations of scenarios 1-3
			  --burst-rounds=30 --burst-warmup=5       rounds of scenario 4
			  --hold=60s --hold-locks=1000             scenario 5
			  --lease=30s                              lease of every library (renewal every lease/3)
			  --out=docs                               where BENCHMARKS.md and benchmarks.svg go
			  --no-write                               print only
			  --profile                                instead of the benchmark: each selected throughput scenario
			                                           and row once under JFR (--duration long, after --warmup);
			                                           prints CPU, hand-offs, Redis time per cycle, top frames
			  --profile-out=lock-benchmarks/target/profiles   where the .jfr files go
			""";

	List<Library> libraries = new ArrayList<>(Arrays.stream(Library.values()).filter(Library::isDefault).toList());

	Set<Scenario> scenarios = EnumSet.allOf(Scenario.class);

	Duration warmup = Duration.ofSeconds(5);

	int iterations = 3;

	Duration duration = Duration.ofSeconds(5);

	int burstRounds = 30;

	int burstWarmup = 5;

	Duration hold = Duration.ofSeconds(60);

	int holdLocks = 1000;

	Duration lease = Duration.ofSeconds(30);

	Path out = Path.of("docs");

	boolean write = true;

	final Map<String, String> lockProperties = new LinkedHashMap<>();

	boolean profile;

	Path profileOut = Path.of("lock-benchmarks", "target", "profiles");

	boolean quick;

	boolean help;

	final List<String> arguments = new ArrayList<>();

	static BenchmarkOptions parse(String[] args) {
		BenchmarkOptions options = new BenchmarkOptions();
		for (String arg : args) {
			if (arg.equals("--quick")) {
				options.quick = true;
			}
		}
		if (options.quick) {
			options.warmup = Duration.ofSeconds(1);
			options.iterations = 2;
			options.duration = Duration.ofSeconds(2);
			options.burstRounds = 10;
			options.burstWarmup = 3;
			options.hold = Duration.ofSeconds(20);
		}
		for (String arg : args) {
			options.arguments.add(arg);
			String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
			String value = arg.contains("=") ? arg.substring(arg.indexOf('=') + 1) : "";
			switch (name) {
				case "--quick" -> {
				}
				case "--help", "-h" -> options.help = true;
				case "--no-write" -> options.write = false;
				case "--libs" -> {
					options.libraries.clear();
					for (String id : value.split(",")) {
						options.libraries.add(Library.byId(id.trim()));
					}
				}
				case "--scenarios" -> {
					options.scenarios.clear();
					for (String id : value.split(",")) {
						int before = options.scenarios.size();
						for (Scenario scenario : Scenario.values()) {
							if (Scenario.selectedBy(scenario, id.trim())) {
								options.scenarios.add(scenario);
							}
						}
						if (options.scenarios.size() == before && !id.isBlank()) {
							throw new IllegalArgumentException("Unknown scenario '" + id + "'");
						}
					}
				}
				case "--warmup" -> options.warmup = duration(value);
				case "--iterations" -> options.iterations = positive(name, value);
				case "--duration" -> options.duration = duration(value);
				case "--burst-rounds" -> options.burstRounds = positive(name, value);
				case "--burst-warmup" -> options.burstWarmup = Integer.parseInt(value);
				case "--hold" -> options.hold = duration(value);
				case "--hold-locks" -> options.holdLocks = positive(name, value);
				case "--lease" -> options.lease = duration(value);
				case "--out" -> options.out = Path.of(value);
				case "--lock-property" -> {
					int eq = value.indexOf('=');
					if (eq <= 0 || !value.startsWith("lock.")) {
						throw new IllegalArgumentException(
								"--lock-property needs lock.name=value, was '" + value + "'");
					}
					options.lockProperties.put(value.substring(0, eq), value.substring(eq + 1));
				}
				case "--profile" -> options.profile = true;
				case "--profile-out" -> options.profileOut = Path.of(value);
				default -> throw new IllegalArgumentException("Unknown option '" + arg + "'\n" + USAGE);
			}
		}
		return options;
	}

	private static int positive(String name, String value) {
		int n = Integer.parseInt(value);
		if (n < 1) {
			throw new IllegalArgumentException(name + " must be at least 1, was " + value);
		}
		return n;
	}

	/** {@code 500ms}, {@code 5s}, {@code 2m} or an ISO-8601 duration. */
	static Duration duration(String value) {
		String v = value.trim().toLowerCase(Locale.ROOT);
		if (v.endsWith("ms")) {
			return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
		}
		if (v.endsWith("s")) {
			return Duration.ofMillis(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 1000));
		}
		if (v.endsWith("m")) {
			return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)) * 60);
		}
		return Duration.parse(value);
	}

	String commandLine() {
		StringBuilder sb = new StringBuilder("java -jar lock-benchmarks/target/lock-benchmarks.jar");
		for (String arg : this.arguments) {
			sb.append(' ').append(arg);
		}
		return sb.toString();
	}

}
