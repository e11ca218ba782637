package io.github.userlock.reliability;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockHandle;
import io.github.userlock.LockListener;
import io.github.userlock.LockRequest;
import io.github.userlock.LockUnavailableException;
import io.github.userlock.redis.RedisLockRegistry;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;

/**
 * The child process of {@link MultiProcessLockTests}: one application instance with its
 * own {@link RedisLockRegistry}, running {@code threads} threads that lock random keys
 * out of {@code keys} and, under each lock, do a non-atomic read-modify-write of a
 * counter in Redis (GET, work, SET as two separate round trips). Both round trips are
 * fenced with the lock's fencing token: the read registers the token as the highest seen
 * for the key and is refused when a higher one was seen; the write is refused when a
 * higher one was seen since. Every write that gets through also increments a write count
 * in the same script, so {@code counter == writes} in Redis if and only if no update was
 * lost.
 *
 * <p>
 * It appends one line per event to its log (tab separated, times in epoch microseconds
 * from {@link Instant#now()}, the one clock every process on the machine shares):
 * <ul>
 * <li>{@code A key token acquiredAt validAtStart pid thread} when a lock was acquired
 * (written before the critical section, so a killed worker leaves its open acquisitions
 * behind);</li>
 * <li>{@code R key token acquiredAt releasedAt confirmedAt lostAt status pid thread} when
 * it is released: {@code confirmedAt} is when {@link LockHandle#isHeld()} was last seen
 * true (taken before the call), -1 if it was not; {@code lostAt} when the lock was
 * reported lost to the handle, 0 if never; {@code status} is {@code W} (write applied),
 * {@code F} (read refused: stale token), {@code G} (write refused: stale token) or
 * {@code E} (the data store failed);</li>
 * <li>{@code M key token} when the fenced read got through (the write is next);</li>
 * <li>{@code L key token lostAt} when the lock was reported lost to the handle;</li>
 * <li>{@code U startedAt endedAt} for an acquire that failed with
 * {@link LockUnavailableException};</li>
 * <li>{@code S name=value...} a summary at the end.</li>
 * </ul>
 * Arguments are {@code name=value} pairs. It stops after {@code max} acquisitions, after
 * {@code seconds}, or when its standard input closes (the parent's way of stopping it; it
 * also stops if the parent dies).
 */
public final class LockWorker {

	/**
	 * Fenced read: refuses (-1) a token below the highest seen, else registers it and
	 * returns the counter.
	 */
	static final String FENCED_READ = """
			local fence = tonumber(redis.call('GET', KEYS[1]) or '0')
			local token = tonumber(ARGV[1])
			if token < fence then return -1 end
			redis.call('SET', KEYS[1], ARGV[1])
			return tonumber(redis.call('GET', KEYS[2]) or '0')
			""";

	/**
	 * Fenced write: refuses (0) when a higher token was seen since the read, else sets
	 * and counts (1).
	 */
	static final String FENCED_WRITE = """
			local fence = tonumber(redis.call('GET', KEYS[1]) or '0')
			if tonumber(ARGV[1]) < fence then return 0 end
			redis.call('SET', KEYS[2], ARGV[2])
			redis.call('INCR', KEYS[3])
			return 1
			""";

	private final Map<String, String> args;

	private final FileOutputStream log;

	private final long pid = ProcessHandle.current().pid();

	private final AtomicLong acquisitions = new AtomicLong();

	private final AtomicLong conflicts = new AtomicLong();

	private final AtomicLong unavailable = new AtomicLong();

	private final AtomicLong maxUnavailableMicros = new AtomicLong();

	private final AtomicLong listenerLost = new AtomicLong();

	private final AtomicLong listenerLostBeforeRelease = new AtomicLong();

	private volatile boolean stop;

	private LockWorker(Map<String, String> args) throws IOException {
		this.args = args;
		this.log = new FileOutputStream(arg("log"), true);
	}

	public static void main(String[] argv) throws Exception {
		Map<String, String> args = new HashMap<>();
		for (String arg : argv) {
			int eq = arg.indexOf('=');
			args.put(arg.substring(0, eq), arg.substring(eq + 1));
		}
		new LockWorker(args).run();
		System.exit(0);
	}

	private String arg(String name) {
		String value = this.args.get(name);
		if (value == null) {
			throw new IllegalArgumentException("Missing argument " + name);
		}
		return value;
	}

	private long num(String name) {
		return Long.parseLong(arg(name));
	}

	private void run() throws Exception {
		int threads = (int) num("threads");
		int keyCount = (int) num("keys");
		long max = num("max");
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(num("seconds"));
		Duration lease = Duration.ofMillis(num("leaseMillis"));
		Duration wait = Duration.ofMillis(num("waitMillis"));
		long workMicros = num("workMicros");
		RedisURI uri = RedisURI.builder()
			.withHost("127.0.0.1")
			.withPort((int) num("port"))
			.withTimeout(Duration.ofMillis(num("dataTimeoutMillis")))
			.build();
		// cluster=true: the port is a seed node of a Redis Cluster
		boolean cluster = Boolean.parseBoolean(this.args.getOrDefault("cluster", "false"));
		AbstractRedisClient lockClient = cluster ? RedisClusterClient.create(uri) : RedisClient.create(uri);
		AbstractRedisClient dataClient = cluster ? RedisClusterClient.create(uri) : RedisClient.create(uri);
		RedisLockRegistry registry = RedisLockRegistry.builder(lockClient)
			.defaultLeaseTime(lease)
			.defaultWaitTime(wait)
			.commandTimeout(Duration.ofMillis(num("commandTimeoutMillis")))
			.recheckInterval(Duration.ofMillis(num("recheckMillis")))
			.build();
		registry.addListener(new LockListener() {

			@Override
			public void lockLost(String key, long fencingToken) {
				LockWorker.this.listenerLost.incrementAndGet();
			}

			@Override
			public void lostBeforeRelease(String key, long fencingToken) {
				LockWorker.this.listenerLostBeforeRelease.incrementAndGet();
			}

		});
		StatefulConnection<String, String> data = connect(dataClient);
		RedisClusterCommands<String, String> dataCommands = (data instanceof StatefulRedisClusterConnection<String, String> c)
				? c.sync() : ((StatefulRedisConnection<String, String>) data).sync();
		String[] keys = new String[keyCount];
		for (int i = 0; i < keyCount; i++) {
			keys[i] = String.format("k%02d", i);
		}
		Thread stdinWatcher = new Thread(() -> {
			try (InputStream in = System.in) {
				while (in.read() >= 0) {
					// the parent writes nothing; EOF means stop
				}
			}
			catch (IOException ex) {
				// parent gone
			}
			this.stop = true;
		}, "stdin-watcher");
		stdinWatcher.setDaemon(true);
		stdinWatcher.start();
		warmUp(registry, dataCommands);
		Files.writeString(Path.of(arg("log") + ".ready"), Long.toString(this.pid));
		Thread[] workers = new Thread[threads];
		for (int t = 0; t < threads; t++) {
			int id = t;
			workers[t] = new Thread(() -> work(id, registry, dataCommands, keys, max, deadline, workMicros),
					"worker-" + t);
			workers[t].start();
		}
		for (Thread worker : workers) {
			worker.join();
		}
		line("S\tpid=" + this.pid + "\tacquisitions=" + this.acquisitions.get() + "\tconflicts=" + this.conflicts.get()
				+ "\tunavailable=" + this.unavailable.get() + "\tmaxUnavailableMicros="
				+ this.maxUnavailableMicros.get() + "\tlostWhileHeld=" + registry.lostWhileHeldCount()
				+ "\tlostBeforeRelease=" + registry.lostBeforeReleaseCount() + "\tlistenerLost="
				+ this.listenerLost.get() + "\tlistenerLostBeforeRelease=" + this.listenerLostBeforeRelease.get());
		registry.close();
		data.close();
		lockClient.shutdown(Duration.ZERO, Duration.ofSeconds(1));
		dataClient.shutdown(Duration.ZERO, Duration.ofSeconds(1));
		this.log.close();
	}

	private void work(int id, RedisLockRegistry registry, RedisClusterCommands<String, String> data, String[] keys,
			long max, long deadline, long workMicros) {
		ThreadLocalRandom random = ThreadLocalRandom.current();
		while (!this.stop && System.nanoTime() - deadline < 0) {
			if (this.acquisitions.incrementAndGet() > max) {
				this.acquisitions.decrementAndGet();
				return;
			}
			String key = keys[random.nextInt(keys.length)];
			long startNanos = System.nanoTime();
			long startMicros = micros();
			LockHandle handle;
			try {
				handle = registry.acquire(LockRequest.of(key));
			}
			catch (LockConflictException ex) {
				this.acquisitions.decrementAndGet();
				this.conflicts.incrementAndGet();
				continue;
			}
			catch (LockUnavailableException ex) {
				this.acquisitions.decrementAndGet();
				this.unavailable.incrementAndGet();
				long tookMicros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - startNanos);
				this.maxUnavailableMicros.accumulateAndGet(tookMicros, Math::max);
				line("U\t" + startMicros + "\t" + micros());
				// back off a little so that a refused connection does not spin
				sleepMicros(50_000);
				continue;
			}
			long acquiredAt = micros();
			boolean validAtStart = handle.isHeld();
			AtomicLong lostAt = new AtomicLong();
			long token = handle.fencingToken();
			handle.onLost((h) -> {
				long at = micros();
				if (lostAt.compareAndSet(0, at)) {
					line("L\t" + key + "\t" + token + "\t" + at);
				}
			});
			line("A\t" + key + "\t" + token + "\t" + acquiredAt + "\t" + (validAtStart ? 1 : 0) + "\t" + this.pid + "\t"
					+ id);
			char status;
			try {
				Long value = data.eval(FENCED_READ, ScriptOutputType.INTEGER,
						new String[] { dataKey("fence", key), dataKey("counter", key) }, Long.toString(token));
				if (value < 0) {
					status = 'F';
				}
				else {
					line("M\t" + key + "\t" + token);
					if (workMicros > 0) {
						sleepMicros(random.nextLong(workMicros + 1));
					}
					Long applied = data.eval(FENCED_WRITE, ScriptOutputType.INTEGER,
							new String[] { dataKey("fence", key), dataKey("counter", key), dataKey("writes", key) },
							Long.toString(token), Long.toString(value + 1));
					status = (applied == 1) ? 'W' : 'G';
					line("D\t" + key + "\t" + token);
				}
			}
			catch (RuntimeException ex) {
				status = 'E';
			}
			long confirmedAt = micros();
			boolean held = handle.isHeld();
			long releasedAt = micros();
			handle.release();
			line("R\t" + key + "\t" + token + "\t" + acquiredAt + "\t" + releasedAt + "\t" + (held ? confirmedAt : -1)
					+ "\t" + lostAt.get() + "\t" + status + "\t" + this.pid + "\t" + id);
		}
	}

	/**
	 * The name of a data key of the protected resource: {@code rel:<kind>:<key>}; with
	 * {@code cluster=true} the lock key is the hash tag ({@code rel:<kind>:{<key>}}), so
	 * that the three keys a fenced write touches share a slot.
	 */
	private String dataKey(String kind, String key) {
		return Boolean.parseBoolean(this.args.getOrDefault("cluster", "false")) ? dataKeyOnCluster(kind, key)
				: "rel:" + kind + ":" + key;
	}

	/** {@link #dataKey} on a cluster. */
	static String dataKeyOnCluster(String kind, String key) {
		return "rel:" + kind + ":{" + key + "}";
	}

	private static StatefulConnection<String, String> connect(AbstractRedisClient client) {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
		for (;;) {
			try {
				return (client instanceof RedisClusterClient cluster) ? cluster.connect()
						: ((RedisClient) client).connect();
			}
			catch (RuntimeException ex) {
				if (System.nanoTime() - deadline > 0) {
					throw ex;
				}
				sleepMicros(100_000);
			}
		}
	}

	/**
	 * Connects and loads classes before the run, so that a slow JVM start is not counted
	 * as unavailability.
	 */
	private static void warmUp(RedisLockRegistry registry, RedisClusterCommands<String, String> data) {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
		for (;;) {
			try {
				registry.runWithLock("warm-up-" + ProcessHandle.current().pid(), Duration.ofSeconds(5), data::ping);
				return;
			}
			catch (RuntimeException ex) {
				if (System.nanoTime() - deadline > 0) {
					throw ex;
				}
			}
		}
	}

	static long micros() {
		Instant now = Instant.now();
		return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
	}

	private static void sleepMicros(long micros) {
		try {
			TimeUnit.MICROSECONDS.sleep(micros);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/**
	 * One write(2) per line, so that the line is in the file even if the process is
	 * killed right after.
	 */
	private void line(String text) {
		byte[] bytes = (text + "\n").getBytes(StandardCharsets.UTF_8);
		synchronized (this.log) {
			try {
				this.log.write(bytes);
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		}
	}

}
