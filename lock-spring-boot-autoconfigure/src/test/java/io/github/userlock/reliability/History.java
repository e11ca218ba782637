package io.github.userlock.reliability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.lettuce.core.api.sync.RedisCommands;

/**
 * The merged logs of every participant ({@link LockWorker} children and the test itself)
 * and the checks made on them. What each check proves:
 * <ul>
 * <li><b>Confirmed overlaps</b>: for each acquisition, the interval from when
 * {@code acquire} returned (if {@code isHeld()} was then true) to the last moment
 * {@code isHeld()} was seen true. Two such intervals of one key must never overlap: while
 * a holder believes it holds the lock, nobody else does. This holds even for a holder
 * frozen past its lease, since its own view of the lease ends first.</li>
 * <li><b>Raw overlaps</b>: the whole interval from acquire to release. A frozen holder
 * (SIGSTOP, GC) can only be stopped by its lease, so it may overlap its successor; every
 * such overlap must be with a holder that was told it lost the lock (handle callback),
 * and its writes must have been refused by the fence.</li>
 * <li><b>Token order</b>: per key, in the order of acquisition, fencing tokens strictly
 * increase.</li>
 * <li><b>Lost updates</b>: per key, the counter written by the non-atomic
 * read-modify-write equals the number of writes Redis accepted (counted atomically by the
 * fenced write).</li>
 * </ul>
 */
final class History {

	/**
	 * One acquisition; {@code releasedAt == -1} while open (never released: the process
	 * was killed).
	 */
	static final class Acquisition {

		final String key;

		final long token;

		final long acquiredAt;

		final boolean validAtStart;

		final long pid;

		long releasedAt = -1;

		long confirmedAt = -1;

		long lostAt;

		char status = '?';

		boolean readDone;

		/** The fenced write has returned (applied or refused). */
		boolean writeDone;

		Acquisition(String key, long token, long acquiredAt, boolean validAtStart, long pid) {
			this.key = key;
			this.token = token;
			this.acquiredAt = acquiredAt;
			this.validAtStart = validAtStart;
			this.pid = pid;
		}

		boolean open() {
			return this.releasedAt < 0;
		}

		/** The end of the interval during which the holder saw {@code isHeld()} true. */
		long confirmedEnd() {
			return (this.confirmedAt > 0) ? this.confirmedAt : this.acquiredAt;
		}

		@Override
		public String toString() {
			return this.key + "#" + this.token + "[pid " + this.pid + ", " + this.acquiredAt + ".."
					+ (open() ? "open" : this.releasedAt) + ", confirmed " + this.confirmedAt + ", lost " + this.lostAt
					+ ", " + this.status + "]";
		}

	}

	final List<Acquisition> acquisitions = new ArrayList<>();

	final Map<Long, Map<String, String>> summaries = new LinkedHashMap<>();

	/**
	 * Durations in microseconds of acquires that failed with LockUnavailableException,
	 * with their start.
	 */
	final List<long[]> unavailable = new ArrayList<>();

	private History() {
	}

	static History read(List<Path> logs) {
		History history = new History();
		Map<String, Acquisition> byId = new HashMap<>();
		List<String[]> later = new ArrayList<>();
		for (Path log : logs) {
			for (String line : completeLines(log)) {
				if (line.isEmpty()) {
					continue;
				}
				String[] f = line.split("\t");
				switch (f[0]) {
					case "A" -> {
						Acquisition a = new Acquisition(f[1], Long.parseLong(f[2]), Long.parseLong(f[3]),
								f[4].equals("1"), Long.parseLong(f[5]));
						if (byId.put(id(a.key, a.token), a) != null) {
							throw new IllegalStateException("Two acquisitions of " + a.key + " with token " + a.token);
						}
						history.acquisitions.add(a);
					}
					case "R", "M", "D", "L" -> later.add(f);
					case "U" -> history.unavailable.add(new long[] { Long.parseLong(f[1]), Long.parseLong(f[2]) });
					case "S" -> {
						Map<String, String> summary = new LinkedHashMap<>();
						for (int i = 1; i < f.length; i++) {
							int eq = f[i].indexOf('=');
							summary.put(f[i].substring(0, eq), f[i].substring(eq + 1));
						}
						history.summaries.put(Long.parseLong(summary.get("pid")), summary);
					}
					default -> throw new IllegalStateException("Bad log line in " + log + ": " + line);
				}
			}
		}
		for (String[] f : later) {
			Acquisition a = byId.get(id(f[1], Long.parseLong(f[2])));
			if (a == null) {
				throw new IllegalStateException("Event for an acquisition never logged: " + String.join(" ", f));
			}
			switch (f[0]) {
				case "R" -> {
					a.releasedAt = Long.parseLong(f[4]);
					a.confirmedAt = Long.parseLong(f[5]);
					long lostAt = Long.parseLong(f[6]);
					if (lostAt > 0) {
						a.lostAt = (a.lostAt > 0) ? Math.min(a.lostAt, lostAt) : lostAt;
					}
					a.status = f[7].charAt(0);
				}
				case "M" -> a.readDone = true;
				case "D" -> a.writeDone = true;
				case "L" -> {
					long lostAt = Long.parseLong(f[3]);
					a.lostAt = (a.lostAt > 0) ? Math.min(a.lostAt, lostAt) : lostAt;
				}
				default -> throw new IllegalStateException();
			}
		}
		return history;
	}

	/**
	 * The lines of a log that a worker may still be appending to, up to its last line
	 * break. {@link Files#readAllLines} is not safe for that: when it reaches the end of
	 * the file in the middle of a line being written, it returns that part as a line and
	 * then, reading on, the rest as another one. One read of the bytes cannot split a
	 * line; a line whose end is not written yet is left for the next read.
	 */
	static List<String> completeLines(Path log) {
		if (!Files.exists(log)) {
			return List.of();
		}
		String text;
		try {
			text = new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		int end = text.lastIndexOf('\n');
		return (end < 0) ? List.of() : List.of(text.substring(0, end).split("\n", -1));
	}

	private static String id(String key, long token) {
		return key + "\u0000" + token;
	}

	Map<String, List<Acquisition>> byKey() {
		Map<String, List<Acquisition>> byKey = new TreeMap<>();
		for (Acquisition a : this.acquisitions) {
			byKey.computeIfAbsent(a.key, (k) -> new ArrayList<>()).add(a);
		}
		byKey.values().forEach((list) -> list.sort(Comparator.comparingLong((Acquisition a) -> a.acquiredAt)));
		return byKey;
	}

	/** Pairs of acquisitions of one key whose confirmed intervals overlap. */
	List<String> confirmedOverlaps() {
		List<String> overlaps = new ArrayList<>();
		for (List<Acquisition> list : byKey().values()) {
			Acquisition latest = null;
			for (Acquisition a : list) {
				if (!a.validAtStart) {
					continue;
				}
				if (latest != null && a.acquiredAt < latest.confirmedEnd()) {
					overlaps.add(latest + " overlaps " + a);
				}
				if (latest == null || a.confirmedEnd() > latest.confirmedEnd()) {
					latest = a;
				}
			}
		}
		return overlaps;
	}

	/**
	 * Pairs of acquisitions of one key whose acquire-to-release intervals overlap (open
	 * ones excluded).
	 */
	List<Acquisition[]> rawOverlaps() {
		List<Acquisition[]> overlaps = new ArrayList<>();
		for (List<Acquisition> list : byKey().values()) {
			Acquisition latest = null;
			for (Acquisition a : list) {
				if (a.open()) {
					continue;
				}
				if (latest != null && a.acquiredAt < latest.releasedAt) {
					overlaps.add(new Acquisition[] { latest, a });
				}
				if (latest == null || a.releasedAt > latest.releasedAt) {
					latest = a;
				}
			}
		}
		return overlaps;
	}

	/**
	 * Raw overlaps whose older holder (the lower token: the one whose lock ran out) was
	 * never told it lost the lock: each one is a broken lock. (The older holder may have
	 * logged its acquisition late, when it was frozen right after {@code acquire}
	 * returned, so its interval can start after its successor's.)
	 */
	List<String> unexplainedRawOverlaps() {
		return rawOverlaps().stream()
			.map((pair) -> (pair[0].token < pair[1].token) ? pair : new Acquisition[] { pair[1], pair[0] })
			.filter((pair) -> pair[0].lostAt == 0)
			.map((pair) -> pair[0] + " overlaps " + pair[1] + " and was never reported lost")
			.toList();
	}

	/**
	 * Per key, consecutive acquisitions (acquire confirmed) whose tokens do not increase.
	 */
	List<String> tokenOrderViolations() {
		List<String> violations = new ArrayList<>();
		for (List<Acquisition> list : byKey().values()) {
			Acquisition previous = null;
			for (Acquisition a : list) {
				if (!a.validAtStart) {
					continue;
				}
				if (previous != null && a.token <= previous.token) {
					violations.add(previous + " then " + a);
				}
				previous = a;
			}
		}
		return violations;
	}

	long count(char status) {
		return this.acquisitions.stream().filter((a) -> a.status == status).count();
	}

	long openCount() {
		return this.acquisitions.stream().filter(Acquisition::open).count();
	}

	long maxUnavailableMicros() {
		return this.unavailable.stream().mapToLong((u) -> u[1] - u[0]).max().orElse(0);
	}

	long summed(String field) {
		return this.summaries.values().stream().mapToLong((s) -> Long.parseLong(s.getOrDefault(field, "0"))).sum();
	}

	/** The counters in Redis: per key {counter, writes}. */
	static Map<String, long[]> counters(RedisCommands<String, String> redis, int keys) {
		Map<String, long[]> counters = new TreeMap<>();
		for (int i = 0; i < keys; i++) {
			String key = String.format("k%02d", i);
			counters.put(key,
					new long[] { parse(redis.get("rel:counter:" + key)), parse(redis.get("rel:writes:" + key)) });
		}
		return counters;
	}

	private static long parse(String value) {
		return (value != null) ? Long.parseLong(value) : 0;
	}

}
