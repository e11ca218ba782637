package io.github.userlock.test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.lettuce.core.MigrateArgs;
import io.lettuce.core.Range;
import io.lettuce.core.RedisURI;

import static org.awaitility.Awaitility.await;

/**
 * A real three-master Redis Cluster on loopback from the same {@code redis-server} binary
 * (slots 0-5460, 5461-10922, 10923-16383), formed from Java, and a slot migration done
 * step by step the way {@code redis-cli --cluster reshard} does it
 * ({@code SETSLOT IMPORTING/MIGRATING}, {@code MIGRATE}, {@code SETSLOT NODE}), so a test
 * can act between the steps.
 * <p>
 * Not thread-safe; a test drives it from one thread.
 */
public final class RedisClusterRig implements AutoCloseable {

	private static final Duration FORM_TIMEOUT = Duration.ofSeconds(30);

	private final List<RedisServer> nodes = new ArrayList<>();

	private final List<String> ids = new ArrayList<>();

	/** The node index that owns each slot, as this rig set it. */
	private final int[] owners = new int[16384];

	private RedisClusterRig() {
	}

	/**
	 * Starts three masters and waits until the cluster is ok on each.
	 * @return the rig
	 */
	public static RedisClusterRig start() {
		RedisClusterRig rig = new RedisClusterRig();
		try {
			rig.form();
			return rig;
		}
		catch (RuntimeException | Error ex) {
			rig.close();
			throw ex;
		}
	}

	private void form() {
		int[][] ranges = { { 0, 5460 }, { 5461, 10922 }, { 10923, 16383 } };
		for (int i = 0; i < 3; i++) {
			RedisServer node = RedisServer.create("--cluster-enabled", "yes", "--cluster-node-timeout", "5000");
			this.nodes.add(node);
			node.start();
			this.ids.add(node.admin((c) -> c.clusterMyId()));
			int[] range = ranges[i];
			node.admin((c) -> c.clusterAddSlotsRange(Range.create(range[0], range[1])));
			for (int slot = range[0]; slot <= range[1]; slot++) {
				this.owners[slot] = i;
			}
		}
		for (int i = 1; i < 3; i++) {
			int port = this.nodes.get(i).port();
			this.nodes.get(0).admin((c) -> c.clusterMeet("127.0.0.1", port));
		}
		await("cluster formed").atMost(FORM_TIMEOUT)
			.pollInterval(Duration.ofMillis(100))
			.until(() -> this.nodes.stream().allMatch((node) -> {
				String info = node.admin((c) -> c.clusterInfo());
				return info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3");
			}));
	}

	/** A seed URI for a cluster client. */
	public RedisURI seedUri() {
		return RedisURI.create(this.nodes.get(0).host(), this.nodes.get(0).port());
	}

	/** The nodes, in slot range order. */
	public List<RedisServer> nodes() {
		return List.copyOf(this.nodes);
	}

	/**
	 * The node that owns {@code slot} now.
	 * @param slot a hash slot
	 * @return its master
	 */
	public RedisServer owner(int slot) {
		return this.nodes.get(this.owners[slot]);
	}

	/**
	 * Step 1 of a migration: the target imports {@code slot}, the owner migrates it.
	 * @param slot the slot
	 * @param target the node that will own it
	 */
	public void beginMigration(int slot, RedisServer target) {
		RedisServer source = owner(slot);
		check(source != target, "slot " + slot + " is on " + target + " already");
		target.admin((c) -> c.clusterSetSlotImporting(slot, id(source)));
		source.admin((c) -> c.clusterSetSlotMigrating(slot, id(target)));
	}

	/**
	 * Step 2: moves every key of {@code slot} to the target in one {@code MIGRATE} (so a
	 * lock key and its fencing counter move together).
	 * @param slot the slot
	 * @param target the importing node
	 * @return the keys moved
	 */
	public List<String> migrateKeys(int slot, RedisServer target) {
		RedisServer source = owner(slot);
		List<String> keys = source.admin((c) -> c.clusterGetKeysInSlot(slot, 1000));
		if (!keys.isEmpty()) {
			String reply = source
				.admin((c) -> c.migrate(target.host(), target.port(), 0, 5000, MigrateArgs.Builder.keys(keys)));
			check("OK".equals(reply), "MIGRATE answered " + reply);
		}
		return keys;
	}

	/**
	 * Step 3: every node is told the target owns {@code slot}.
	 * @param slot the slot
	 * @param target the new owner
	 */
	public void endMigration(int slot, RedisServer target) {
		String targetId = id(target);
		target.admin((c) -> c.clusterSetSlotNode(slot, targetId));
		for (RedisServer node : this.nodes) {
			if (node != target) {
				node.admin((c) -> c.clusterSetSlotNode(slot, targetId));
			}
		}
		this.owners[slot] = this.nodes.indexOf(target);
	}

	/**
	 * All three steps.
	 * @param slot the slot
	 * @param target the new owner
	 */
	public void migrate(int slot, RedisServer target) {
		beginMigration(slot, target);
		migrateKeys(slot, target);
		endMigration(slot, target);
	}

	private String id(RedisServer node) {
		return this.ids.get(this.nodes.indexOf(node));
	}

	private static void check(boolean condition, String message) {
		if (!condition) {
			throw new IllegalStateException(message);
		}
	}

	@Override
	public void close() {
		this.nodes.forEach(RedisServer::close);
	}

}
