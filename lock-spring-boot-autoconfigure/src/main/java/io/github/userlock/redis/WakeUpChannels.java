package io.github.userlock.redis;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The wake-up subscription: which channel a release of a key announces itself on, and the
 * subscription that hears it.
 *
 * <p>
 * On a Redis Cluster whose masters all run Redis 7.0 or later, releases use sharded
 * Pub/Sub: one channel per bucket, {@code <prefix>{<bucket>}released}, with the bucket's
 * hash tag, so it lives in the lock key's slot and the release script SPUBLISHes it on
 * the key's own node (a classic PUBLISH is broadcast to every node of the cluster). The
 * registry SSUBSCRIBEs all {@value RedisKeys#BUCKETS} bucket channels, each on the node
 * that owns its slot. Everywhere else (standalone, Sentinel, older servers, INFO,
 * SSUBSCRIBE or SPUBLISH refused by an ACL) every release uses the one global channel
 * {@code <prefix>released} and PUBLISH. The global channel is subscribed in both modes,
 * so that releases of registries in the other mode (an older version during an upgrade,
 * another user) still wake this one's waiters.
 *
 * <p>
 * The server ends a sharded subscription when the channel's slot moves to another node
 * ({@code sunsubscribe} pushed to the client), and Lettuce re-sends all of a node's shard
 * channels in one SSUBSCRIBE after a reconnect, which the server refuses with CROSSSLOT
 * when they span slots: so this class subscribes a channel again itself in both cases,
 * one channel per command, from the registry's scheduler (never on a Netty thread),
 * retrying with a growing pause until it succeeds or the registry closes. Every
 * (re)subscription wakes every waiter to re-check (messages may have been lost), at most
 * once per scheduler turn however many channels were confirmed.
 */
final class WakeUpChannels {

	private static final Logger logger = LoggerFactory.getLogger(WakeUpChannels.class);

	private static final long RETRY_MIN_MILLIS = 50;

	private static final long RETRY_MAX_MILLIS = 1000;

	private final String global;

	private final String[] buckets;

	private final Consumer<String> signal;

	private final Runnable signalAll;

	private final ScheduledExecutorService scheduler;

	private final long timeoutNanos;

	private final AtomicBoolean wakeAllPending = new AtomicBoolean();

	/** The Pub/Sub connections of nodes whose reconnects are watched already. */
	private final Set<StatefulConnection<?, ?>> watched = ConcurrentHashMap.newKeySet();

	private final AtomicBoolean fallbackLogged = new AtomicBoolean();

	private volatile boolean sharded;

	private volatile boolean closed;

	private volatile @Nullable StatefulRedisClusterPubSubConnection<String, String> clusterPubSub;

	private volatile @Nullable RedisClusterClient clusterClient;

	/**
	 * @param prefix the key prefix (no braces)
	 * @param signal wakes this process's waiter of a released store key
	 * @param signalAll wakes every waiter, after a (re)subscription
	 * @param scheduler where re-subscriptions and wake-ups after them run
	 * @param timeoutNanos the bound of every wait at connect
	 */
	WakeUpChannels(String prefix, Consumer<String> signal, Runnable signalAll, ScheduledExecutorService scheduler,
			long timeoutNanos) {
		this.global = prefix + "released";
		this.buckets = new String[RedisKeys.BUCKETS];
		for (int i = 0; i < this.buckets.length; i++) {
			this.buckets[i] = prefix + "{" + i + "}released";
		}
		this.signal = signal;
		this.signalAll = signalAll;
		this.scheduler = scheduler;
		this.timeoutNanos = timeoutNanos;
	}

	/** The global channel's name, used everywhere but on a Redis 7 cluster. */
	String name() {
		return this.global;
	}

	/**
	 * The channel the release of {@code storeKey} publishes on: its bucket's sharded
	 * channel (same hash tag, same slot as the key) in sharded mode, otherwise the global
	 * one. A key whose hash tag is not a bucket (it cannot be one of this registry's)
	 * gets the global channel.
	 */
	String channel(String storeKey) {
		if (!this.sharded) {
			return this.global;
		}
		int bucket = bucketOf(storeKey);
		return (bucket >= 0) ? this.buckets[bucket] : this.global;
	}

	/**
	 * The bucket whose hash tag is the first {@code {...}} of {@code name}, or -1 when
	 * that tag is not a bucket number as the keys spell it (digits, no leading zero,
	 * below {@value RedisKeys#BUCKETS}): only then do the name and the bucket's channel
	 * share a slot.
	 */
	private int bucketOf(String name) {
		int open = name.indexOf('{');
		int close = (open >= 0) ? name.indexOf('}', open + 1) : -1;
		if (close <= open + 1 || close - open > 5) {
			return -1;
		}
		int bucket = 0;
		for (int i = open + 1; i < close; i++) {
			char c = name.charAt(i);
			if (c < '0' || c > '9') {
				return -1;
			}
			bucket = bucket * 10 + (c - '0');
		}
		boolean own = bucket < this.buckets.length && close - open - 1 == Integer.toString(bucket).length();
		return own ? bucket : -1;
	}

	/**
	 * Subscribes on a new (or renewed) pair of connections, on the registry's connect
	 * thread: the global channel, then, on a cluster of Redis 7.0 or later where INFO,
	 * SSUBSCRIBE and SPUBLISH are allowed, every bucket channel (sharded mode). A refusal
	 * by the server leaves the global channel in use and is logged once; a timeout or a
	 * broken connection fails the connect.
	 */
	void subscribe(AbstractRedisClient client, StatefulConnection<String, String> commands,
			StatefulRedisPubSubConnection<String, String> pubSub) throws Exception {
		this.sharded = false;
		pubSub.addListener(new Listener());
		await(pubSub.async().subscribe(this.global).toCompletableFuture());
		if (client instanceof RedisClusterClient cluster
				&& commands instanceof StatefulRedisClusterConnection<String, String> clusterCommands
				&& pubSub instanceof StatefulRedisClusterPubSubConnection<String, String> shardedPubSub) {
			this.clusterClient = cluster;
			this.clusterPubSub = shardedPubSub;
			String refused = shardedRefusal(clusterCommands, shardedPubSub);
			if (refused == null) {
				this.sharded = true;
				logger.debug("Lock wake-ups use sharded Pub/Sub ({} bucket channels)", this.buckets.length);
			}
			else if (this.fallbackLogged.compareAndSet(false, true)) {
				logger.warn("Lock wake-ups use the global channel '{}' (PUBLISH, sent to every cluster node) instead "
						+ "of sharded Pub/Sub: {}", this.global, refused);
			}
			else {
				logger.debug("Lock wake-ups use the global channel '{}': {}", this.global, refused);
			}
		}
	}

	/**
	 * Why sharded mode cannot be used, or {@code null} when it can: every master runs
	 * Redis 7.0 or later (INFO server on each), every bucket channel was subscribed, and
	 * an SPUBLISH (an empty message, which wakes nobody) is allowed on every master.
	 */
	private @Nullable String shardedRefusal(StatefulRedisClusterConnection<String, String> commands,
			StatefulRedisClusterPubSubConnection<String, String> pubSub) throws Exception {
		List<RedisClusterNode> masters = new ArrayList<>();
		for (RedisClusterNode node : commands.getPartitions()) {
			if (node.is(RedisClusterNode.NodeFlag.UPSTREAM)) {
				masters.add(node);
			}
		}
		if (masters.isEmpty()) {
			return "no master in the cluster topology";
		}
		List<CompletableFuture<String>> infos = new ArrayList<>();
		for (RedisClusterNode master : masters) {
			infos.add(commands.getConnectionAsync(master.getNodeId())
				.thenCompose((node) -> node.async().info("server").toCompletableFuture()));
		}
		for (int i = 0; i < masters.size(); i++) {
			String info;
			try {
				info = await(infos.get(i));
			}
			catch (ExecutionException ex) {
				if (ex.getCause() instanceof RedisCommandExecutionException refused) {
					return "INFO was refused on " + masters.get(i).getUri() + " (" + refused.getMessage()
							+ "), so the server version is unknown; grant +info to use sharded Pub/Sub";
				}
				throw ex;
			}
			String version = version(info);
			if (!atLeast7(version)) {
				return masters.get(i).getUri() + " runs Redis " + version + "; sharded Pub/Sub needs 7.0 or later";
			}
		}
		for (RedisClusterNode master : masters) {
			watch(pubSub.getConnection(master.getUri().getHost(), master.getUri().getPort()));
		}
		List<CompletableFuture<Void>> subscriptions = new ArrayList<>();
		for (String channel : this.buckets) {
			subscriptions.add(pubSub.async().ssubscribe(channel).toCompletableFuture());
		}
		for (CompletableFuture<Void> subscription : subscriptions) {
			try {
				await(subscription);
			}
			catch (ExecutionException ex) {
				if (ex.getCause() instanceof RedisCommandExecutionException refused) {
					return "SSUBSCRIBE was refused (" + refused.getMessage()
							+ "); grant +ssubscribe and +spublish to use sharded Pub/Sub";
				}
				throw ex;
			}
		}
		for (RedisClusterNode master : masters) {
			String probe = null;
			for (String channel : this.buckets) {
				if (master.hasSlot(SlotHash.getSlot(channel))) {
					probe = channel;
					break;
				}
			}
			if (probe == null) {
				continue;
			}
			try {
				await(commands.async().spublish(probe, "").toCompletableFuture());
			}
			catch (ExecutionException ex) {
				if (ex.getCause() instanceof RedisCommandExecutionException refused) {
					return "SPUBLISH was refused on " + master.getUri() + " (" + refused.getMessage()
							+ "); grant +ssubscribe and +spublish to use sharded Pub/Sub";
				}
				throw ex;
			}
		}
		return null;
	}

	static String version(String info) {
		for (String line : info.split("\r?\n")) {
			if (line.startsWith("redis_version:")) {
				return line.substring("redis_version:".length()).trim();
			}
		}
		return "unknown";
	}

	static boolean atLeast7(String version) {
		int dot = version.indexOf('.');
		try {
			return Integer.parseInt((dot > 0) ? version.substring(0, dot) : version) >= 7;
		}
		catch (NumberFormatException ex) {
			return false;
		}
	}

	private <T> T await(CompletableFuture<T> future) throws Exception {
		return future.get(this.timeoutNanos, TimeUnit.NANOSECONDS);
	}

	/** No re-subscription after this. */
	void close() {
		this.closed = true;
	}

	private boolean isBucketChannel(String channel) {
		int bucket = bucketOf(channel);
		return bucket >= 0 && this.buckets[bucket].equals(channel);
	}

	/** SSUBSCRIBEs {@code channel} again after {@code delayMillis}, until it succeeds. */
	private void resubscribe(String channel, long delayMillis) {
		if (this.closed || !this.sharded) {
			return;
		}
		try {
			this.scheduler.schedule(() -> {
				StatefulRedisClusterPubSubConnection<String, String> pubSub = this.clusterPubSub;
				if (this.closed || !this.sharded || pubSub == null) {
					return;
				}
				if (!pubSub.isOpen()) {
					// the connection's default node is reconnecting too (a CLIENT KILL, a
					// restart); a command sent now would wait in its buffer or fail: come
					// back once it may be up again
					resubscribe(channel, nextDelay(delayMillis));
					return;
				}
				// bounded: an attempt that never answers is made again
				pubSub.async()
					.ssubscribe(channel)
					.toCompletableFuture()
					.orTimeout(this.timeoutNanos, TimeUnit.NANOSECONDS)
					.whenComplete((ok, failure) -> {
						if (failure != null) {
							logger.debug("Could not subscribe to the wake-up channel {} again, retrying: {}", channel,
									failure.getMessage());
							RedisClusterClient client = this.clusterClient;
							if (client != null && String.valueOf(failure.getMessage()).contains("MOVED")) {
								client.refreshPartitionsAsync();
							}
							resubscribe(channel, nextDelay(delayMillis));
						}
						else {
							// the slot may live on a node this registry did not know at
							// connect
							watchNodeOf(pubSub, channel);
						}
					});
			}, delayMillis, TimeUnit.MILLISECONDS);
		}
		catch (RejectedExecutionException ex) {
			// the registry is closing
		}
	}

	/**
	 * Watches the reconnects of the Pub/Sub connection to the node that owns
	 * {@code channel}'s slot now, unless watched already; never blocks (runs on a Netty
	 * thread).
	 */
	private void watchNodeOf(StatefulRedisClusterPubSubConnection<String, String> pubSub, String channel) {
		RedisClusterNode owner = pubSub.getPartitions().getPartitionBySlot(SlotHash.getSlot(channel));
		if (owner == null || owner.getUri() == null) {
			return;
		}
		pubSub.getConnectionAsync(owner.getUri().getHost(), owner.getUri().getPort()).thenAccept(this::watch);
	}

	/** Watches the reconnects of a node's Pub/Sub connection, once per connection. */
	private void watch(StatefulRedisPubSubConnection<String, String> node) {
		if (this.watched.add(node)) {
			node.addListener(new NodeReconnected());
		}
	}

	private static long nextDelay(long delayMillis) {
		return Math.min(RETRY_MAX_MILLIS, Math.max(RETRY_MIN_MILLIS, delayMillis * 2));
	}

	/** Wakes every waiter from the scheduler, once for a burst of confirmations. */
	private void wakeAllSoon() {
		if (!this.wakeAllPending.compareAndSet(false, true)) {
			return;
		}
		try {
			this.scheduler.execute(() -> {
				this.wakeAllPending.set(false);
				this.signalAll.run();
			});
		}
		catch (RejectedExecutionException ex) {
			this.wakeAllPending.set(false);
		}
	}

	/** Classic and sharded messages and subscriptions, as the registry hears them. */
	private final class Listener extends RedisPubSubAdapter<String, String> {

		@Override
		public void message(String channel, String message) {
			WakeUpChannels.this.signal.accept(message);
		}

		@Override
		public void subscribed(String channel, long count) {
			WakeUpChannels.this.signalAll.run();
		}

		@Override
		public void smessage(String channel, String message) {
			if (!message.isEmpty()) {
				WakeUpChannels.this.signal.accept(message);
			}
		}

		@Override
		public void ssubscribed(String channel, long count) {
			wakeAllSoon();
		}

		@Override
		public void sunsubscribed(String channel, long count) {
			// the server dropped it: its slot moved to another node
			if (isBucketChannel(channel)) {
				resubscribe(channel, 0);
			}
		}

	}

	/**
	 * A node's Pub/Sub connection came back: every bucket channel is subscribed again,
	 * one command each (Lettuce's own re-subscription sends the node's channels in one
	 * command, refused with CROSSSLOT when they span slots); those still subscribed on
	 * another node are confirmed again, which changes nothing.
	 */
	private final class NodeReconnected implements RedisConnectionStateListener {

		@Override
		public void onRedisConnected(RedisChannelHandler<?, ?> connection,
				java.net.@Nullable SocketAddress socketAddress) {
			if (WakeUpChannels.this.closed || !WakeUpChannels.this.sharded) {
				return;
			}
			logger.debug("A Pub/Sub connection of the lock registry reconnected ({}); subscribing again",
					socketAddress);
			for (String channel : WakeUpChannels.this.buckets) {
				resubscribe(channel, 0);
			}
		}

	}

}
