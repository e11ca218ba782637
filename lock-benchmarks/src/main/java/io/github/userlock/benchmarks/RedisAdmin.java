package io.github.userlock.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.jspecify.annotations.Nullable;

/**
 * The harness's own connection to redis-server, a minimal RESP client on a plain socket
 * ({@link RespSocket}) so that it shares nothing with the libraries under test and can
 * stream a slow log of hundreds of thousands of entries without holding it in memory. It
 * names itself {@value #NAME} so that its own commands are left out.
 *
 * <p>
 * How calls are counted: in a counting window redis-server runs with
 * {@code slowlog-log-slower-than 0} (off otherwise: logging every command costs Redis
 * enough to blur the timed runs), so every command it executes is logged, each with the
 * address of the client that sent it; a command run by a Lua script is logged with the
 * script client's address {@code ?:0}. So a window's slow log splits exactly into client
 * calls (a script call counts once) and commands run inside scripts.
 * {@code INFO commandstats} is snapshotted before and after as a cross-check: its total
 * counts both kinds (Redis 7 counts commands called from scripts too), and any command it
 * has that the slow log lacks (commands flagged to skip the slow log, such as
 * {@code EXEC} or {@code AUTH}) is added to the client calls.
 */
final class RedisAdmin implements AutoCloseable {

	static final String NAME = "bench-admin";

	static final int SLOWLOG_MAX_LEN = 4_000_000;

	private static final String SCRIPT_CLIENT = "?:0";

	private final RespSocket resp;

	RedisAdmin(String host, int port) throws IOException {
		this.resp = new RespSocket(host, port, 1000, 0, 1 << 16);
	}

	void ping() throws IOException {
		command("PING");
	}

	void nameSelf() throws IOException {
		command("CLIENT", "SETNAME", NAME);
	}

	void flushAll() throws IOException {
		command("FLUSHALL");
	}

	String info(String section) throws IOException {
		return new String((byte[]) command("INFO", section), StandardCharsets.UTF_8);
	}

	/**
	 * Socket reads redis-server has made so far ({@code total_reads_processed} of
	 * {@code INFO stats}): one per wake-up of a client's connection, however many
	 * commands the read brought. The harness's own INFO commands add one read each.
	 */
	long socketReads() throws IOException {
		String reads = infoFields("stats").get("total_reads_processed");
		return (reads != null) ? Long.parseLong(reads) : -1;
	}

	/**
	 * CPU time redis-server has used so far, in microseconds: {@code used_cpu_sys} plus
	 * {@code used_cpu_user} of {@code INFO cpu} (the whole process, from its own
	 * {@code getrusage}).
	 */
	long serverCpuMicros() throws IOException {
		Map<String, String> cpu = infoFields("cpu");
		double seconds = Double.parseDouble(cpu.getOrDefault("used_cpu_sys", "0"))
				+ Double.parseDouble(cpu.getOrDefault("used_cpu_user", "0"));
		return Math.round(seconds * 1e6);
	}

	/** The {@code name:value} fields of one {@code INFO} section, by name. */
	private Map<String, String> infoFields(String section) throws IOException {
		Map<String, String> fields = new HashMap<>();
		for (String line : info(section).split("\r\n")) {
			int colon = line.indexOf(':');
			if (colon > 0 && !line.startsWith("#")) {
				fields.put(line.substring(0, colon), line.substring(colon + 1).trim());
			}
		}
		return fields;
	}

	/**
	 * Starts a counting window: turns the slow log on for every command, empties it and
	 * snapshots the command statistics.
	 */
	Window begin() throws IOException {
		command("CONFIG", "SET", "slowlog-log-slower-than", "0");
		command("SLOWLOG", "RESET");
		return new Window(commandStats(), commandMicros(), true);
	}

	/**
	 * Starts a window that only snapshots the command statistics (the slow log stays
	 * off): for timed runs, where it gives the total of commands executed but not the
	 * split into client calls and commands inside scripts.
	 */
	Window beginStats() throws IOException {
		return new Window(commandStats(), commandMicros(), false);
	}

	/**
	 * Command name → calls, from {@code INFO commandstats}, without the harness's own
	 * admin commands.
	 */
	Map<String, Long> commandStats() throws IOException {
		return commandStat("calls=");
	}

	/**
	 * Command name → microseconds Redis spent executing it, from
	 * {@code INFO commandstats} ({@code usec}; a script's time includes the commands it
	 * runs).
	 */
	Map<String, Long> commandMicros() throws IOException {
		return commandStat("usec=");
	}

	private Map<String, Long> commandStat(String field) throws IOException {
		Map<String, Long> stats = new TreeMap<>();
		for (String line : info("commandstats").split("\r\n")) {
			if (line.startsWith("cmdstat_")) {
				// "script|load" in commandstats is logged as "script" in the slow log
				String full = line.substring("cmdstat_".length(), line.indexOf(':'));
				String name = full.contains("|") ? full.substring(0, full.indexOf('|')) : full;
				int start = line.indexOf(field) + field.length();
				long value = Long.parseLong(line.substring(start, line.indexOf(',', start)));
				if (!isAdmin(name)) {
					stats.merge(name, value, Long::sum);
				}
			}
		}
		return stats;
	}

	private static boolean isAdmin(String name) {
		return name.equals("info") || name.startsWith("slowlog") || name.startsWith("config")
				|| name.equals("flushall");
	}

	/** A counting window opened by {@link #begin()}. */
	final class Window {

		private final Map<String, Long> before;

		private final Map<String, Long> microsBefore;

		private final boolean counting;

		private Window(Map<String, Long> before, Map<String, Long> microsBefore, boolean counting) {
			this.before = before;
			this.microsBefore = microsBefore;
			this.counting = counting;
		}

		/** Ends the window and counts what happened in it. */
		CallCounts end() throws IOException {
			Map<String, Long> stats = delta(this.before, commandStats());
			Map<String, Long> micros = delta(this.microsBefore, commandMicros());
			if (!this.counting) {
				return new CallCounts(Map.of(), Map.of(), stats, micros, false);
			}
			CallCounts counts = countSlowLog(stats, micros);
			command("CONFIG", "SET", "slowlog-log-slower-than", "-1");
			command("SLOWLOG", "RESET");
			return counts;
		}

	}

	private static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
		Map<String, Long> delta = new TreeMap<>();
		after.forEach((name, value) -> {
			long d = value - before.getOrDefault(name, 0L);
			if (d > 0) {
				delta.put(name, d);
			}
		});
		return delta;
	}

	private CallCounts countSlowLog(Map<String, Long> stats, Map<String, Long> micros) throws IOException {
		this.resp.write("SLOWLOG", "GET", "-1");
		Map<String, Long> client = new TreeMap<>();
		Map<String, Long> inScripts = new TreeMap<>();
		long entries = this.resp.readArrayHeader();
		for (long i = 0; i < entries; i++) {
			List<Object> entry = asList(this.resp.read());
			String name = new String((byte[]) asList(entry.get(3)).get(0), StandardCharsets.UTF_8)
				.toLowerCase(Locale.ROOT);
			String address = new String((byte[]) entry.get(4), StandardCharsets.UTF_8);
			String clientName = new String((byte[]) entry.get(5), StandardCharsets.UTF_8);
			if (NAME.equals(clientName) || isAdmin(name)) {
				continue;
			}
			(SCRIPT_CLIENT.equals(address) ? inScripts : client).merge(name, 1L, Long::sum);
		}
		boolean truncated = entries >= SLOWLOG_MAX_LEN;
		// Commands that skip the slow log (EXEC, AUTH, ...) are client calls: add what
		// commandstats has beyond it.
		Map<String, Long> clientCalls = new TreeMap<>(client);
		stats.forEach((name, calls) -> {
			long logged = client.getOrDefault(name, 0L) + inScripts.getOrDefault(name, 0L);
			if (calls > logged) {
				clientCalls.merge(name, calls - logged, Long::sum);
			}
		});
		return new CallCounts(clientCalls, inScripts, stats, micros, truncated);
	}

	private static List<Object> asList(@Nullable Object value) {
		@SuppressWarnings("unchecked")
		List<Object> list = (List<Object>) value;
		return list;
	}

	private @Nullable Object command(String... args) throws IOException {
		this.resp.write(args);
		Object reply = this.resp.read();
		if (reply instanceof RespSocket.Error error) {
			throw new IOException("redis-server answered " + error.message() + " to " + String.join(" ", args));
		}
		return reply;
	}

	@Override
	public void close() throws IOException {
		this.resp.close();
	}

}
