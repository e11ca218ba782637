package io.github.userlock.reliability;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.github.userlock.reliability.Workers.Worker;
import io.github.userlock.test.RedisClusterRig;
import io.github.userlock.test.RedisServer;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The multi-process checker ({@link LockWorker} children, {@link History}) against a real
 * three-master Redis Cluster: three processes lock 20 keys spread over every master and
 * do fenced read-modify-writes of a counter per key (its data keys hash-tagged to one
 * slot); one is killed with {@code kill -9} while it holds locks. No two holders overlap,
 * no update is lost, fencing tokens follow acquisition order.
 */
@Timeout(180)
class ClusterMultiProcessLockTests {

	private static RedisClusterRig rig;

	private final Workers workers = new Workers();

	@BeforeAll
	static void startCluster() {
		rig = RedisClusterRig.start();
	}

	@AfterAll
	static void stopCluster() {
		if (rig != null) {
			rig.close();
		}
	}

	@AfterEach
	void endChildren() {
		this.workers.close();
	}

	@Test
	void threeProcessesOnAClusterOneKilledNeverOverlapAndLoseNoUpdate() {
		Map<String, String> settings = Workers.defaults();
		settings.put("cluster", "true");
		settings.put("max", "1000000");
		settings.put("waitMillis", "300");
		int seedPort = rig.nodes().get(0).port();
		for (int i = 0; i < 3; i++) {
			this.workers.start(seedPort, settings);
		}
		this.workers.awaitReady(Duration.ofSeconds(60));
		awaitReleased(this.workers.all(), 200);
		Worker victim = this.workers.all().get(0);
		victim.kill();
		List<Worker> survivors = this.workers.all().subList(1, 3);
		// the survivors go on, the victim's keys included once its leases (2 s) ran out
		long[] before = survivors.stream().mapToLong(Worker::released).toArray();
		await().atMost(Duration.ofSeconds(60))
			.until(() -> survivors.get(0).released() >= before[0] + 300
					&& survivors.get(1).released() >= before[1] + 300);
		this.workers.stopAll(Duration.ofSeconds(30));

		History history = History.read(this.workers.logs());
		Map<String, long[]> counters = counters(20);
		long writes = counters.values().stream().mapToLong((c) -> c[1]).sum();
		System.out.println("RELIABILITY case=\"cluster, kill -9 of a holder\" acquisitions="
				+ history.acquisitions.size() + " writes=" + writes + " overlaps=" + history.confirmedOverlaps().size()
				+ " rawOverlaps=" + history.rawOverlaps().size() + " unexplainedRawOverlaps="
				+ history.unexplainedRawOverlaps().size() + " tokenOrderViolations="
				+ history.tokenOrderViolations().size() + " staleWritesRefused="
				+ (history.count('F') + history.count('G')) + " openAtKill=" + history.openCount());
		assertThat(history.acquisitions).hasSizeGreaterThan(1000);
		assertThat(history.confirmedOverlaps()).as("overlapping held intervals").isEmpty();
		assertThat(history.unexplainedRawOverlaps()).as("overlaps not explained by a reported loss").isEmpty();
		assertThat(history.tokenOrderViolations()).as("fencing tokens out of acquisition order").isEmpty();
		assertThat(counters).as("counter == accepted writes per key (no lost update)")
			.allSatisfy((key, c) -> assertThat(c[0]).as(key).isEqualTo(c[1]));
		long applied = history.count('W');
		assertThat(writes).as("accepted writes vs. what the holders saw")
			.isBetween(applied, applied + history.count('E') + history.openCount());
		// the locks (their fencing counters stay) were on every master
		for (RedisServer node : rig.nodes()) {
			assertThat(node.<List<String>>admin((c) -> c.keys("user-lock:*"))).as("lock keys on " + node).isNotEmpty();
		}
	}

	private static void awaitReleased(List<Worker> workers, long each) {
		await().atMost(Duration.ofSeconds(60)).until(() -> workers.stream().allMatch((w) -> {
			if (!w.process.isAlive()) {
				throw new IllegalStateException("Worker died:\n" + w.output());
			}
			return w.released() >= each;
		}));
	}

	/**
	 * Per key: the counter and the number of accepted writes, read through the cluster.
	 */
	private static Map<String, long[]> counters(int keys) {
		RedisClusterClient client = RedisClusterClient.create(rig.seedUri());
		try (StatefulRedisClusterConnection<String, String> connection = client.connect()) {
			Map<String, long[]> counters = new TreeMap<>();
			for (int i = 0; i < keys; i++) {
				String key = String.format("k%02d", i);
				counters.put(key,
						new long[] { parse(connection.sync().get(LockWorker.dataKeyOnCluster("counter", key))),
								parse(connection.sync().get(LockWorker.dataKeyOnCluster("writes", key))) });
			}
			return counters;
		}
		finally {
			client.shutdown();
		}
	}

	private static long parse(String value) {
		return (value != null) ? Long.parseLong(value) : 0;
	}

}
