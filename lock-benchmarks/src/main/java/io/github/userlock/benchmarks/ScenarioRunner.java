package io.github.userlock.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

import org.jspecify.annotations.Nullable;

/**
 * Runs one scenario for one library: opens its instances, warms up, measures, checks what
 * must hold (one holder at a time, strictly increasing fencing tokens), counts Redis
 * calls per measured window and closes the instances.
 */
final class ScenarioRunner {

	private static final Duration LONG_WAIT = Duration.ofSeconds(30);

	private final BenchmarkOptions options;

	private final RedisAdmin admin;

	private final ClientSettings settings;

	ScenarioRunner(BenchmarkOptions options, RedisAdmin admin, ClientSettings settings) {
		this.options = options;
		this.admin = admin;
		this.settings = settings;
	}

	ScenarioResult run(Scenario scenario, Library library) throws Exception {
		this.admin.flushAll();
		ScenarioResult result = new ScenarioResult(scenario, library);
		switch (scenario) {
			case UNCONTENDED, MANY_USERS, HOT_KEY, HOT_KEY_1MS -> {
				Load load = load(scenario);
				throughput(result, load.instances(), load.threadsPerInstance(), load.keys(), load.holdNanos());
			}
			case BURST -> burst(result);
			case LONG_HOLDS -> longHolds(result);
		}
		return result;
	}

	/** The load of a throughput scenario (1-3). */
	private record Load(int instances, int threadsPerInstance, KeyChoice keys, long holdNanos) {
	}

	private static Load load(Scenario scenario) {
		return switch (scenario) {
			case UNCONTENDED -> new Load(1, 1, KeyChoice.FRESH, 0);
			case MANY_USERS -> new Load(2, 8, KeyChoice.RANDOM_10K, 0);
			case HOT_KEY -> new Load(4, 4, KeyChoice.ONE, 0);
			case HOT_KEY_1MS -> new Load(4, 4, KeyChoice.ONE, TimeUnit.MILLISECONDS.toNanos(1));
			default -> throw new IllegalArgumentException(scenario + " is not a throughput scenario");
		};
	}

	/** What the profiler does around each profiled iteration. */
	interface Probe {

		/** How many iterations to run, each between a begin and an end. */
		int iterations();

		void begin(int iteration) throws Exception;

		/**
		 * @param iteration the iteration, from 0
		 * @param acquisitions acquire + release cycles in the iteration
		 * @param callers what the calling threads used, measured by themselves
		 */
		void end(int iteration, long acquisitions, Map<String, ThreadStats.Usage> callers) throws Exception;

	}

	/**
	 * Opens the instances of a throughput scenario, warms up as a measured run does, then
	 * runs the probe's iterations of {@code duration}, each between its begin and end.
	 */
	void profile(Scenario scenario, Library library, Duration duration, Probe probe) throws Exception {
		this.admin.flushAll();
		Load load = load(scenario);
		List<LockClient> clients = open(library, load.instances(), this.settings);
		try {
			Shared shared = new Shared();
			runIteration(clients, load.threadsPerInstance(), load.keys(), load.holdNanos(), this.options.warmup, shared,
					null, null, null);
			for (int i = 0; i < probe.iterations(); i++) {
				AtomicLongArray counts = new AtomicLongArray(load.instances());
				Map<String, ThreadStats.Usage> callers = ThreadStats.newUsage();
				shared.callerUsage = callers;
				probe.begin(i);
				runIteration(clients, load.threadsPerInstance(), load.keys(), load.holdNanos(), duration, shared, null,
						null, counts);
				long acquisitions = 0;
				for (int j = 0; j < counts.length(); j++) {
					acquisitions += counts.get(j);
				}
				probe.end(i, acquisitions, callers);
			}
			if (!shared.violations.isEmpty()) {
				System.out.println("    VIOLATIONS: " + shared.violations);
			}
		}
		finally {
			close(clients);
		}
	}

	/**
	 * Runs the many-users load unmeasured for every library before anything is measured,
	 * so that code the libraries share (Lettuce, Netty, Spring Data Redis) is compiled by
	 * the JIT before the first library is timed; otherwise whichever library runs first
	 * would pay for the others' warm-up.
	 */
	void warmUpAll(List<Library> libraries) throws Exception {
		for (Library library : libraries) {
			this.admin.flushAll();
			List<LockClient> clients = open(library, 2, this.settings);
			try {
				Shared shared = new Shared();
				runIteration(clients, 8, KeyChoice.RANDOM_10K, 0, this.options.warmup, shared, null, null, null);
				runIteration(clients.subList(0, 1), 1, KeyChoice.FRESH, 0, this.options.warmup, shared, null, null,
						null);
				// unmeasured, but what went wrong is still worth knowing (e.g. a first
				// connect that timed out)
				for (String violation : shared.violations) {
					System.out.println("  warm-up of " + library.id() + ": " + violation);
				}
			}
			finally {
				close(clients);
			}
		}
	}

	// ---- scenarios 1-3
	// ---------------------------------------------------------------------------

	private enum KeyChoice {

		FRESH, RANDOM_10K, ONE

	}

	/** State shared by the workers of one throughput run. */
	private static final class Shared {

		final AtomicInteger inside = new AtomicInteger();

		final AtomicLong lastToken = new AtomicLong(Long.MIN_VALUE);

		final AtomicLong freshKeys = new AtomicLong();

		final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();

		volatile long releasedAt;

		/** Set when profiling: every calling thread adds what it used. */
		volatile @Nullable Map<String, ThreadStats.Usage> callerUsage;

		void violation(String message) {
			if (this.violations.size() < 20) {
				this.violations.add(message);
			}
		}

	}

	private void throughput(ScenarioResult result, int instances, int threadsPerInstance, KeyChoice keys,
			long holdNanos) throws Exception {
		List<LockClient> clients = open(result.library, instances, this.settings);
		try {
			Shared shared = new Shared();
			Samples latencies = new Samples();
			Samples handoffs = new Samples();
			long[] perInstance = new long[instances];
			runIteration(clients, threadsPerInstance, keys, holdNanos, this.options.warmup, shared, null, null, null);
			CallCounts calls = CallCounts.NONE;
			long ops = 0;
			long elapsed = 0;
			long redisCpu = 0;
			long redisReads = 0;
			long clientCpu = 0;
			MachineCpu machine = MachineCpu.ZERO;
			for (int i = 0; i < this.options.iterations; i++) {
				AtomicLongArray counts = new AtomicLongArray(instances);
				RedisAdmin.Window window = this.admin.beginStats();
				long redisCpuBefore = this.admin.serverCpuMicros();
				long readsBefore = this.admin.socketReads();
				long clientCpuBefore = ProcessCpu.nanos();
				MachineCpu machineBefore = MachineCpu.now();
				long start = System.nanoTime();
				runIteration(clients, threadsPerInstance, keys, holdNanos, this.options.duration, shared, latencies,
						(keys == KeyChoice.ONE) ? handoffs : null, counts);
				long took = System.nanoTime() - start;
				machine = machine.plusInterval(machineBefore, MachineCpu.now());
				clientCpu += ProcessCpu.nanos() - clientCpuBefore;
				redisReads += this.admin.socketReads() - readsBefore;
				redisCpu += this.admin.serverCpuMicros() - redisCpuBefore;
				calls = calls.plus(window.end());
				long iterationOps = 0;
				for (int j = 0; j < instances; j++) {
					perInstance[j] += counts.get(j);
					iterationOps += counts.get(j);
				}
				ops += iterationOps;
				elapsed += took;
				result.iterationOps.add(iterationOps * 1e9 / took);
			}
			// the calls, counted in one more iteration with the slow log on
			AtomicLongArray counted = new AtomicLongArray(instances);
			RedisAdmin.Window window = this.admin.begin();
			runIteration(clients, threadsPerInstance, keys, holdNanos, countingDuration(), shared, null, null, counted);
			result.calls = window.end();
			long countedOps = 0;
			for (int j = 0; j < instances; j++) {
				countedOps += counted.get(j);
			}
			result.opsPerSecond = ops * 1e9 / elapsed;
			result.p50 = latencies.percentile(50);
			result.p99 = latencies.percentile(99);
			result.acquisitions = countedOps;
			result.timedStats = calls;
			result.timedAcquisitions = ops;
			result.redisCpuMicros = redisCpu;
			result.redisReads = redisReads;
			result.clientCpuNanos = clientCpu;
			result.machineCpu = machine;
			result.violations.addAll(shared.violations);
			if (keys == KeyChoice.ONE) {
				result.metrics.put("handoffP50Micros", handoffs.percentile(50) / 1e3);
				result.metrics.put("handoffP99Micros", handoffs.percentile(99) / 1e3);
				double minShare = 1;
				StringBuilder shares = new StringBuilder();
				for (int j = 0; j < instances; j++) {
					double share = (ops > 0) ? (double) perInstance[j] / ops : 0;
					minShare = Math.min(minShare, share);
					shares.append((j > 0) ? "/" : "").append(Math.round(share * 100));
				}
				result.metrics.put("minShare", minShare);
				result.note = String.format(Locale.ROOT, "handoff p50 %s p99 %s; shares %% %s",
						Report.micros(handoffs.percentile(50)), Report.micros(handoffs.percentile(99)), shares);
			}
		}
		finally {
			close(clients);
		}
	}

	/**
	 * Runs {@code threadsPerInstance} threads on each client for {@code duration}, each
	 * acquiring and releasing in a loop. Samples are recorded only when the collectors
	 * are given (not during warm-up).
	 */
	private void runIteration(List<LockClient> clients, int threadsPerInstance, KeyChoice keys, long holdNanos,
			Duration duration, Shared shared, @Nullable Samples latencies, @Nullable Samples handoffs,
			@Nullable AtomicLongArray counts) throws InterruptedException {
		long deadline = System.nanoTime() + duration.toNanos();
		CountDownLatch start = new CountDownLatch(1);
		List<Thread> threads = new ArrayList<>();
		List<Samples> threadLatencies = new ArrayList<>();
		List<Samples> threadHandoffs = new ArrayList<>();
		shared.releasedAt = 0;
		for (int c = 0; c < clients.size(); c++) {
			LockClient client = clients.get(c);
			int instance = c;
			for (int t = 0; t < threadsPerInstance; t++) {
				Samples mine = new Samples();
				Samples myHandoffs = new Samples();
				threadLatencies.add(mine);
				threadHandoffs.add(myHandoffs);
				Thread thread = new Thread(() -> {
					try {
						start.await();
						Map<String, ThreadStats.Usage> usage = shared.callerUsage;
						ThreadStats.Counters own = (usage != null) ? ThreadStats.currentThread() : null;
						ThreadLocalRandom random = ThreadLocalRandom.current();
						while (System.nanoTime() < deadline) {
							String key = switch (keys) {
								case FRESH -> "fresh-" + shared.freshKeys.incrementAndGet();
								case RANDOM_10K -> "user-" + random.nextInt(10_000);
								case ONE -> "hot";
							};
							long begin = System.nanoTime();
							LockClient.Held held = client.acquire(key, LONG_WAIT);
							long acquired = System.nanoTime();
							if (held == null) {
								shared.violation("acquire timed out after " + LONG_WAIT + " on " + key);
								continue;
							}
							if (keys == KeyChoice.ONE) {
								check(shared, held);
								long releasedAt = shared.releasedAt;
								if (releasedAt != 0) {
									myHandoffs.add(acquired - releasedAt);
								}
								if (holdNanos > 0) {
									hold(holdNanos);
								}
								shared.inside.decrementAndGet();
								shared.releasedAt = System.nanoTime();
							}
							held.release();
							long end = System.nanoTime();
							mine.add(end - begin);
							if (counts != null) {
								counts.incrementAndGet(instance);
							}
						}
						if (usage != null && own != null) {
							ThreadStats.addSince(own, usage);
						}
					}
					catch (InterruptedException ex) {
						Thread.currentThread().interrupt();
					}
					catch (RuntimeException ex) {
						shared.violation("error: " + withCauses(ex));
					}
				}, "bench-" + instance + "-" + t);
				thread.setDaemon(true);
				threads.add(thread);
				thread.start();
			}
		}
		start.countDown();
		for (Thread thread : threads) {
			thread.join(duration.toMillis() + LONG_WAIT.toMillis() * 2);
		}
		if (latencies != null) {
			threadLatencies.forEach(latencies::addAll);
		}
		if (handoffs != null) {
			threadHandoffs.forEach(handoffs::addAll);
		}
	}

	/** An exception and its causes, for a violation's message. */
	static String withCauses(Throwable ex) {
		StringBuilder sb = new StringBuilder(ex.toString());
		for (Throwable cause = ex.getCause(); cause != null && sb.length() < 2000; cause = cause.getCause()) {
			sb.append(" <- ").append(cause);
		}
		return sb.toString();
	}

	private static void check(Shared shared, LockClient.Held held) {
		int holders = shared.inside.incrementAndGet();
		if (holders != 1) {
			shared.violation("mutual exclusion broken: " + holders + " holders at once");
		}
		long token = held.token();
		if (token >= 0) {
			long previous = shared.lastToken.getAndSet(token);
			if (previous != Long.MIN_VALUE && token <= previous) {
				shared.violation("fencing token " + token + " not greater than the previous holder's " + previous);
			}
		}
	}

	/**
	 * Holds for {@code nanos}: parks (no busy spin, the machine has 2 cores); parking
	 * overshoots ~50-100 µs.
	 */
	private static void hold(long nanos) {
		long until = System.nanoTime() + nanos;
		long left;
		while ((left = until - System.nanoTime()) > 0) {
			LockSupport.parkNanos(left);
		}
	}

	// ---- scenario 4
	// ------------------------------------------------------------------------------

	private static final int BURST_INSTANCES = 4;

	private static final int BURST_REQUESTS = 200;

	private void burst(ScenarioResult result) throws Exception {
		List<LockClient> clients = open(result.library, BURST_INSTANCES, this.settings);
		try {
			List<String> violations = new ArrayList<>();
			for (int round = 0; round < this.options.burstWarmup; round++) {
				burstRound(clients, "burst-warmup-" + round, new Samples(), new Samples(), violations);
			}
			Samples loserCalls = new Samples();
			Samples roundTimes = new Samples();
			Samples arrivalSpreads = new Samples();
			RedisAdmin.Window timed = this.admin.beginStats();
			long redisCpuBefore = this.admin.serverCpuMicros();
			long readsBefore = this.admin.socketReads();
			long clientCpuBefore = ProcessCpu.nanos();
			MachineCpu machineBefore = MachineCpu.now();
			for (int round = 0; round < this.options.burstRounds; round++) {
				roundTimes.add(burstRound(clients, "burst-" + round, loserCalls, arrivalSpreads, violations));
			}
			result.machineCpu = MachineCpu.ZERO.plusInterval(machineBefore, MachineCpu.now());
			result.clientCpuNanos = ProcessCpu.nanos() - clientCpuBefore;
			result.redisReads = this.admin.socketReads() - readsBefore;
			result.redisCpuMicros = this.admin.serverCpuMicros() - redisCpuBefore;
			result.timedStats = timed.end();
			result.timedAcquisitions = this.options.burstRounds;
			// the calls, counted over more rounds with the slow log on
			int countedRounds = Math.max(3, this.options.burstRounds / 3);
			RedisAdmin.Window window = this.admin.begin();
			for (int round = 0; round < countedRounds; round++) {
				burstRound(clients, "burst-counted-" + round, new Samples(), new Samples(), violations);
			}
			result.calls = window.end();
			result.acquisitions = countedRounds;
			result.p50 = loserCalls.percentile(50);
			result.p99 = loserCalls.percentile(99);
			result.violations.addAll(violations.subList(0, Math.min(20, violations.size())));
			double scriptsPerInstanceRound = (double) result.calls.scriptCalls() / countedRounds / BURST_INSTANCES;
			result.metrics.put("roundP50Millis", roundTimes.percentile(50) / 1e6);
			result.metrics.put("roundMaxMillis", roundTimes.max() / 1e6);
			result.metrics.put("loserP99Micros", loserCalls.percentile(99) / 1e3);
			result.metrics.put("scriptCallsPerInstancePerRound", scriptsPerInstanceRound);
			result.metrics.put("arrivalSpreadP50Millis", arrivalSpreads.percentile(50) / 1e6);
			result.note = String.format(Locale.ROOT,
					"all losers answered after p50 %.1f ms (max %.1f); loser call p99 %s; %.1f script calls/instance/round; an instance's calls began over p50 %.1f ms",
					roundTimes.percentile(50) / 1e6, roundTimes.max() / 1e6, Report.micros(loserCalls.percentile(99)),
					scriptsPerInstanceRound, arrivalSpreads.percentile(50) / 1e6);
		}
		finally {
			close(clients);
		}
	}

	/**
	 * One round: 200 threads (50 per instance) released at once call {@code tryAcquire}
	 * on one key. Each loser times its own call; the winner holds until every loser has
	 * its answer, then releases. {@code arrivalSpreads} gets, per instance, the time from
	 * its first thread's call to its last's: how far apart the calls an instance could
	 * merge arrive.
	 * @return nanoseconds from the release of the threads until the last loser had its
	 * answer
	 */
	private long burstRound(List<LockClient> clients, String key, Samples loserCalls, Samples arrivalSpreads,
			List<String> violations) throws InterruptedException {
		CountDownLatch ready = new CountDownLatch(BURST_REQUESTS);
		CountDownLatch go = new CountDownLatch(1);
		CountDownLatch losersDone = new CountDownLatch(BURST_REQUESTS - 1);
		AtomicInteger winners = new AtomicInteger();
		AtomicLong lastAnswer = new AtomicLong();
		ConcurrentLinkedQueue<Long> calls = new ConcurrentLinkedQueue<>();
		AtomicLongArray firstCall = new AtomicLongArray(clients.size());
		AtomicLongArray lastCall = new AtomicLongArray(clients.size());
		for (int i = 0; i < clients.size(); i++) {
			firstCall.set(i, Long.MAX_VALUE);
			lastCall.set(i, Long.MIN_VALUE);
		}
		ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
		List<Thread> threads = new ArrayList<>();
		for (int i = 0; i < BURST_REQUESTS; i++) {
			int instance = i % clients.size();
			LockClient client = clients.get(instance);
			Thread thread = new Thread(() -> {
				try {
					ready.countDown();
					go.await();
					long begin = System.nanoTime();
					firstCall.accumulateAndGet(instance, begin, Math::min);
					lastCall.accumulateAndGet(instance, begin, Math::max);
					LockClient.Held held = client.tryAcquire(key);
					long end = System.nanoTime();
					if (held == null) {
						calls.add(end - begin);
						lastAnswer.accumulateAndGet(end, Math::max);
						losersDone.countDown();
					}
					else {
						if (winners.incrementAndGet() > 1) {
							losersDone.countDown(); // a second winner: counted below as a
													// violation
						}
						if (!losersDone.await(30, TimeUnit.SECONDS)) {
							errors.add("losers did not all answer within 30 s");
						}
						held.release();
					}
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
				catch (RuntimeException ex) {
					errors.add("error: " + ex);
					losersDone.countDown();
				}
			}, "burst-" + i);
			thread.setDaemon(true);
			threads.add(thread);
			thread.start();
		}
		ready.await();
		long start = System.nanoTime();
		go.countDown();
		for (Thread thread : threads) {
			thread.join(TimeUnit.SECONDS.toMillis(40));
		}
		if (winners.get() != 1) {
			violations.add("round " + key + ": " + winners.get() + " winners instead of 1");
		}
		violations.addAll(errors);
		calls.forEach(loserCalls::add);
		for (int i = 0; i < clients.size(); i++) {
			arrivalSpreads.add(lastCall.get(i) - firstCall.get(i));
		}
		return lastAnswer.get() - start;
	}

	// ---- scenario 5
	// ------------------------------------------------------------------------------

	private void longHolds(ScenarioResult result) throws Exception {
		List<LockClient> clients = open(result.library, 1, this.settings.withRenewal());
		try {
			LockClient client = clients.get(0);
			List<LockClient.Held> held = new ArrayList<>();
			for (int i = 0; i < this.options.holdLocks; i++) {
				LockClient.Held lock = client.acquire("hold-" + i, Duration.ofSeconds(5));
				if (lock == null) {
					result.violations.add("could not acquire hold-" + i);
				}
				else {
					held.add(lock);
				}
			}
			RedisAdmin.Window window = this.admin.begin();
			long start = System.nanoTime();
			Thread.sleep(this.options.hold.toMillis()); // the scenario is "hold for this
														// long"
			result.calls = window.end();
			double seconds = (System.nanoTime() - start) / 1e9;
			for (LockClient.Held lock : held) {
				lock.release();
			}
			double periodSeconds = this.settings.lease().toMillis() / 3000.0;
			double periods = seconds / periodSeconds;
			long scripts = result.calls.scriptCalls();
			result.metrics.put("renewalPeriods", periods);
			result.metrics.put("renewalScriptCallsPerSecond", scripts / seconds);
			result.metrics.put("renewalCommandsPerSecond", result.calls.commandTotal() / seconds);
			result.metrics.put("scriptCallsPer100LocksPerPeriod", scripts / periods / (this.options.holdLocks / 100.0));
			result.acquisitions = 0;
			result.note = String.format(Locale.ROOT,
					"%d locks, %.0f s: %.2f script calls/s, %.2f client calls/s, %.1f commands/s; %.2f script calls per 100 locks per %.0f s period",
					held.size(), seconds, scripts / seconds, result.calls.clientTotal() / seconds,
					result.calls.commandTotal() / seconds, scripts / periods / (this.options.holdLocks / 100.0),
					periodSeconds);
		}
		finally {
			close(clients);
		}
	}

	// ---- instances
	// -------------------------------------------------------------------------------

	/**
	 * The counting iteration of scenarios 1-3: as long as a measured one, at most 3 s.
	 */
	private Duration countingDuration() {
		Duration most = Duration.ofSeconds(3);
		return (this.options.duration.compareTo(most) < 0) ? this.options.duration : most;
	}

	private static List<LockClient> open(Library library, int instances, ClientSettings settings) {
		List<LockClient> clients = new ArrayList<>();
		for (int i = 0; i < instances; i++) {
			clients.add(library.open(settings));
		}
		return clients;
	}

	private static void close(List<LockClient> clients) {
		for (LockClient client : clients) {
			try {
				client.close();
			}
			catch (RuntimeException ex) {
				System.err.println("closing a client failed: " + ex);
			}
		}
	}

}
