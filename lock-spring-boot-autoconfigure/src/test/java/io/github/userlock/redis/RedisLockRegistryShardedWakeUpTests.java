package io.github.userlock.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import io.github.userlock.LockHandle;
import io.github.userlock.test.RedisClusterRig;
import io.github.userlock.test.RedisServer;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.KillArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Wake-ups on a real three-master Redis 7 cluster go through sharded Pub/Sub: the release
 * SPUBLISHes the key's bucket channel on the key's node only, and the subscription
 * follows the slot when it moves and comes back after its connection is killed. A user
 * whose ACL refuses INFO, SSUBSCRIBE or SPUBLISH, and a standalone Redis, keep the global
 * channel. The recheck interval is 30 s and the holder's lease is renewed, so a waiter
 * done within 5 s of the release was woken by the message.
 */
@Timeout(60)
class RedisLockRegistryShardedWakeUpTests {

	private static final Duration WOKEN_WITHIN = Duration.ofSeconds(5);

	private static RedisClusterRig rig;

	private final List<AbstractRedisClient> clients = new ArrayList<>();

	private final List<RedisLockRegistry> registries = new ArrayList<>();

	private final ExecutorService executor = Executors.newCachedThreadPool();

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
	void close() {
		this.executor.shutdownNow();
		this.registries.forEach(RedisLockRegistry::close);
		this.clients.forEach(AbstractRedisClient::shutdown);
		for (RedisServer node : rig.nodes()) {
			node.admin((c) -> c.aclDeluser("app"));
		}
	}

	private RedisLockRegistry instance(AbstractRedisClient client) {
		this.clients.add(client);
		RedisLockRegistry registry = RedisLockRegistry.builder(client).recheckInterval(Duration.ofSeconds(30)).build();
		this.registries.add(registry);
		return registry;
	}

	private RedisLockRegistry clusterInstance() {
		return instance(RedisClusterClient.create(rig.seedUri()));
	}

	private RedisLockRegistry clusterInstance(String user, String password) {
		RedisURI seed = rig.seedUri();
		return instance(RedisClusterClient.create(RedisURI.builder()
			.withHost(seed.getHost())
			.withPort(seed.getPort())
			.withAuthentication(user, password)
			.build()));
	}

	@Test
	void aReleaseWakesTheWaiterWithSpublishOnTheKeysNodeOnly() {
		RedisLockRegistry holder = clusterInstance();
		RedisLockRegistry waiting = clusterInstance();
		String storeKey = holder.storeKey("", "sharded");
		RedisServer owner = rig.owner(SlotHash.getSlot(storeKey));
		assertThat(holder.getChannel()).isEqualTo("user-lock:released");

		LockHandle held = holder.acquire("sharded", Duration.ofSeconds(5));
		CompletableFuture<Long> waiter = waitFor(waiting, "sharded");
		awaitMarkedWaitedFor(owner, storeKey);
		// both registries listen on the key's bucket channel, on the key's node only
		assertThat(shardSubscribers(owner, bucketChannel(storeKey))).isEqualTo(2);
		for (RedisServer node : rig.nodes()) {
			if (node != owner) {
				assertThat(shardSubscribers(node, bucketChannel(storeKey))).isZero();
			}
			node.resetStats();
		}

		held.release();
		assertThat(waiter).succeedsWithin(WOKEN_WITHIN);
		assertThat(owner.commandCalls("spublish")).isEqualTo(1);
		for (RedisServer node : rig.nodes()) {
			assertThat(node.commandCalls("publish")).as("PUBLISH on %s", node).isZero();
			if (node != owner) {
				assertThat(node.commandCalls("spublish")).as("SPUBLISH on %s", node).isZero();
			}
		}
	}

	@Test
	void theWaiterIsStillWokenAfterTheKeysSlotMovedToAnotherMaster() {
		RedisLockRegistry holder = clusterInstance();
		RedisLockRegistry waiting = clusterInstance();
		String storeKey = holder.storeKey("", "moving-wake-up");
		int slot = SlotHash.getSlot(storeKey);
		RedisServer source = rig.owner(slot);
		RedisServer target = rig.nodes().get((rig.nodes().indexOf(source) + 1) % 3);

		LockHandle held = holder.acquire("moving-wake-up", Duration.ofSeconds(5));
		CompletableFuture<Long> waiter = waitFor(waiting, "moving-wake-up");
		awaitMarkedWaitedFor(source, storeKey);
		rig.migrate(slot, target);
		// the source dropped the channel (sunsubscribe), both registries subscribed again
		// on the new owner
		await().atMost(Duration.ofSeconds(20))
			.until(() -> shardSubscribers(target, bucketChannel(storeKey)) == 2
					&& shardSubscribers(source, bucketChannel(storeKey)) == 0);
		assertThat(waiter).isNotDone();
		rig.nodes().forEach(RedisServer::resetStats);

		held.release();
		assertThat(waiter).succeedsWithin(WOKEN_WITHIN);
		assertThat(target.commandCalls("spublish")).isEqualTo(1);
		assertThat(source.commandCalls("spublish")).isZero();
	}

	@Test
	void theWaiterIsStillWokenAfterThePubSubConnectionsWereKilled() {
		RedisLockRegistry holder = clusterInstance();
		RedisLockRegistry waiting = clusterInstance();
		String storeKey = holder.storeKey("", "killed-wake-up");
		RedisServer owner = rig.owner(SlotHash.getSlot(storeKey));

		LockHandle held = holder.acquire("killed-wake-up", Duration.ofSeconds(5));
		CompletableFuture<Long> waiter = waitFor(waiting, "killed-wake-up");
		awaitMarkedWaitedFor(owner, storeKey);
		// three times: whether the connection that routes the re-subscriptions is back
		// before the node connections is a race, each order must end subscribed
		for (int round = 0; round < 3; round++) {
			for (RedisServer node : rig.nodes()) {
				node.admin((c) -> c.clientKill(KillArgs.Builder.typePubsub()));
			}
			assertThat(shardSubscribers(owner, bucketChannel(storeKey))).isZero();
			// the registries reconnect and subscribe again, channel by channel
			await().atMost(Duration.ofSeconds(15))
				.until(() -> shardSubscribers(owner, bucketChannel(storeKey)) == 2
						&& rig.nodes().stream().allMatch((node) -> shardChannelCount(node) == ownedBuckets(node)));
		}
		assertThat(waiter).isNotDone();

		held.release();
		assertThat(waiter).succeedsWithin(WOKEN_WITHIN);
	}

	@ParameterizedTest
	@ValueSource(strings = { "-info", "-ssubscribe -spublish", "-spublish" })
	void aUserWhoseAclRefusesShardedPubSubIsWokenThroughTheGlobalChannel(String refused) {
		for (RedisServer node : rig.nodes()) {
			setUser(node, "app", "on >app-secret ~* &* +@all " + refused);
		}
		RedisLockRegistry holder = clusterInstance("app", "app-secret");
		RedisLockRegistry waiting = clusterInstance("app", "app-secret");
		String storeKey = holder.storeKey("", "fallback");
		RedisServer owner = rig.owner(SlotHash.getSlot(storeKey));

		LockHandle held = holder.acquire("fallback", Duration.ofSeconds(5));
		CompletableFuture<Long> waiter = waitFor(waiting, "fallback");
		awaitMarkedWaitedFor(owner, storeKey);
		rig.nodes().forEach(RedisServer::resetStats);

		held.release();
		assertThat(waiter).succeedsWithin(WOKEN_WITHIN);
		assertThat(rig.nodes().stream().mapToLong((node) -> node.commandCalls("publish")).sum()).isEqualTo(1);
		assertThat(rig.nodes().stream().mapToLong((node) -> node.commandCalls("spublish")).sum()).isZero();
	}

	@Test
	void standaloneKeepsTheGlobalChannel() {
		try (RedisServer server = RedisServer.create().start()) {
			RedisLockRegistry holder = instance(RedisClient.create(server.redisUri()));
			RedisLockRegistry waiting = instance(RedisClient.create(server.redisUri()));
			String storeKey = holder.storeKey("", "standalone");

			LockHandle held = holder.acquire("standalone", Duration.ofSeconds(5));
			CompletableFuture<Long> waiter = waitFor(waiting, "standalone");
			awaitMarkedWaitedFor(server, storeKey);
			Map<String, Long> subscribers = server.admin((c) -> c.pubsubNumsub("user-lock:released"));
			assertThat(subscribers).containsEntry("user-lock:released", 2L);
			List<String> shardChannels = server.admin((c) -> c.pubsubShardChannels());
			assertThat(shardChannels).isEmpty();
			server.resetStats();

			held.release();
			assertThat(waiter).succeedsWithin(WOKEN_WITHIN);
			assertThat(server.commandCalls("publish")).isEqualTo(1);
			assertThat(server.commandCalls("spublish")).isZero();
			this.registries.forEach(RedisLockRegistry::close);
		}
	}

	private CompletableFuture<Long> waitFor(RedisLockRegistry registry, String key) {
		return CompletableFuture.supplyAsync(() -> {
			try (LockHandle next = registry.acquire(key, Duration.ofSeconds(50))) {
				return next.fencingToken();
			}
		}, this.executor);
	}

	/** The waiter's failed attempt appended its mark: its release will publish. */
	private static void awaitMarkedWaitedFor(RedisServer node, String storeKey) {
		await().atMost(Duration.ofSeconds(10)).until(() -> node.admin((c) -> c.strlen(storeKey)) == 33);
	}

	private static String bucketChannel(String storeKey) {
		return "user-lock:" + storeKey.substring(storeKey.indexOf('{'), storeKey.indexOf('}') + 1) + "released";
	}

	private static long shardSubscribers(RedisServer node, String channel) {
		return node.admin((c) -> c.pubsubShardNumsub(channel)).getOrDefault(channel, 0L);
	}

	private static int shardChannelCount(RedisServer node) {
		return node.admin((c) -> c.pubsubShardChannels("user-lock:*")).size();
	}

	/** How many bucket channels hash to the slots {@code node} owns. */
	private static long ownedBuckets(RedisServer node) {
		long count = 0;
		for (int bucket = 0; bucket < RedisKeys.BUCKETS; bucket++) {
			if (rig.owner(SlotHash.getSlot("user-lock:{" + bucket + "}released")) == node) {
				count++;
			}
		}
		return count;
	}

	private static void setUser(RedisServer node, String user, String rule) {
		CommandArgs<String, String> args = new CommandArgs<>(StringCodec.UTF8).add("SETUSER").add(user).add("reset");
		for (String part : rule.split(" ")) {
			args.add(part);
		}
		node.admin((c) -> c.dispatch(CommandType.ACL, new StatusOutput<>(StringCodec.UTF8), args));
	}

}
