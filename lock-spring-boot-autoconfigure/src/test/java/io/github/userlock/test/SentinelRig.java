package io.github.userlock.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;
import org.jspecify.annotations.Nullable;

import static org.awaitility.Awaitility.await;

/**
 * A Redis Sentinel deployment on loopback, from the same {@code redis-server} binary: one
 * master, one replica and three sentinels (quorum 2), each on a free port, with short
 * timings ({@value #DOWN_AFTER_MILLIS} ms to declare the master down, a failover timeout
 * of {@value #FAILOVER_TIMEOUT_MILLIS} ms) so a failover takes a few seconds.
 * <p>
 * The replica replicates through a {@link FaultProxy} ({@link #replicationLink()}), so a
 * test can hold back what the master sends it (a lagging replica) without pausing it.
 * {@link #start()} returns once every sentinel knows the replica and the two other
 * sentinels (they find each other through the master every 2 s), so a failover can be
 * authorised. Each sentinel gets a writable configuration file in a temporary directory
 * (a sentinel rewrites it).
 * <p>
 * Not thread-safe; a test drives it from one thread. {@link #close()} stops every
 * process.
 */
public final class SentinelRig implements AutoCloseable {

	/** The name the sentinels monitor the master under. */
	public static final String MASTER_NAME = "mymaster";

	/** {@code down-after-milliseconds}: how long the master may not answer. */
	public static final int DOWN_AFTER_MILLIS = 1000;

	/** {@code failover-timeout}. */
	public static final int FAILOVER_TIMEOUT_MILLIS = 3000;

	private static final Duration FORM_TIMEOUT = Duration.ofSeconds(30);

	private final RedisServer first;

	private final RedisServer second;

	private final FaultProxy replicationLink;

	private final List<RedisServer> sentinels = new ArrayList<>();

	private final List<RedisClient> sentinelClients = new ArrayList<>();

	private final List<StatefulRedisSentinelConnection<String, String>> sentinelConnections = new ArrayList<>();

	private SentinelRig(String... dataNodeArgs) {
		this.first = RedisServer.create(dataNodeArgs);
		this.second = RedisServer.create(dataNodeArgs);
		this.replicationLink = new FaultProxy(this.first.port());
	}

	/**
	 * Starts the master, the replica and three sentinels and waits until they formed.
	 * @param dataNodeArgs extra arguments of the master and the replica
	 * @return the started rig
	 */
	public static SentinelRig start(String... dataNodeArgs) {
		SentinelRig rig = new SentinelRig(dataNodeArgs);
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
		this.first.start();
		this.second.start();
		this.second.admin((c) -> c.replicaof("127.0.0.1", this.replicationLink.port()));
		awaitReplicaOnline(this.first);
		Path dir;
		try {
			dir = Files.createTempDirectory("redis-sentinel-");
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		dir.toFile().deleteOnExit();
		for (int i = 0; i < 3; i++) {
			Path config = dir.resolve("sentinel-" + i + ".conf");
			try {
				Files.writeString(config,
						"sentinel monitor " + MASTER_NAME + " 127.0.0.1 " + this.first.port() + " 2\n"
								+ "sentinel down-after-milliseconds " + MASTER_NAME + " " + DOWN_AFTER_MILLIS + "\n"
								+ "sentinel failover-timeout " + MASTER_NAME + " " + FAILOVER_TIMEOUT_MILLIS + "\n"
								+ "sentinel parallel-syncs " + MASTER_NAME + " 1\n");
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
			config.toFile().deleteOnExit();
			RedisServer sentinel = RedisServer.builder().configFile(config).args("--sentinel").build();
			this.sentinels.add(sentinel);
			sentinel.start();
			// the timeout on the URI: RedisClient#setDefaultTimeout is gone in Lettuce 7
			RedisClient client = RedisClient.create(RedisURI.builder()
				.withHost(sentinel.host())
				.withPort(sentinel.port())
				.withTimeout(Duration.ofSeconds(2))
				.build());
			this.sentinelClients.add(client);
			this.sentinelConnections.add(client.connectSentinel());
		}
		await("sentinels know each other and the replica").atMost(FORM_TIMEOUT)
			.pollInterval(Duration.ofMillis(100))
			.until(() -> this.sentinelConnections.stream().allMatch((connection) -> {
				Map<String, String> master = connection.sync().master(MASTER_NAME);
				return "2".equals(master.get("num-other-sentinels")) && "1".equals(master.get("num-slaves"));
			}));
	}

	/** The value of {@code spring.data.redis.sentinel.nodes}: every sentinel. */
	public String sentinelNodes() {
		return this.sentinels.stream().map((s) -> s.host() + ":" + s.port()).collect(Collectors.joining(","));
	}

	/** A Lettuce URI that finds the master through the sentinels. */
	public RedisURI redisUri() {
		RedisURI.Builder builder = RedisURI.builder();
		for (RedisServer sentinel : this.sentinels) {
			builder.withSentinel(sentinel.host(), sentinel.port());
		}
		return builder.withSentinelMasterId(MASTER_NAME).build();
	}

	/** The sentinels. */
	public List<RedisServer> sentinels() {
		return List.copyOf(this.sentinels);
	}

	/**
	 * The data node the first sentinel names as master now.
	 * @return the master
	 */
	public RedisServer master() {
		int port = masterPort();
		if (port == this.first.port()) {
			return this.first;
		}
		if (port == this.second.port()) {
			return this.second;
		}
		throw new IllegalStateException("The sentinels name an unknown master on port " + port);
	}

	/**
	 * The data node that is not the master now.
	 * @return the replica
	 */
	public RedisServer replica() {
		return (master() == this.first) ? this.second : this.first;
	}

	/**
	 * The proxy the replica of the initial master replicates through: blackhole it to
	 * hold back what the master sends the replica.
	 * @return the proxy
	 */
	public FaultProxy replicationLink() {
		return this.replicationLink;
	}

	/**
	 * Waits (up to 5 s) until the replica acknowledged everything written to the master
	 * so far ({@code WAIT 1 5000}).
	 * @param master the master
	 */
	public static void awaitReplicated(RedisServer master) {
		long acked = master.admin((c) -> c.waitForReplication(1, 5000));
		if (acked < 1) {
			throw new IllegalStateException("The replica did not acknowledge within 5 s");
		}
	}

	/**
	 * Waits until {@code master} has one online replica.
	 * @param master the master
	 */
	public static void awaitReplicaOnline(RedisServer master) {
		await("a replica online on " + master).atMost(FORM_TIMEOUT)
			.pollInterval(Duration.ofMillis(50))
			.until(() -> master.admin((c) -> c.info("replication")).contains("state=online"));
	}

	/**
	 * Waits until every sentinel names another master than {@code old} and that node says
	 * it is a master.
	 * @param old the master before the failover
	 * @param timeout the longest wait
	 * @return the new master
	 */
	public RedisServer awaitFailover(RedisServer old, Duration timeout) {
		await("failover away from " + old).atMost(timeout)
			.pollInterval(Duration.ofMillis(100))
			.ignoreExceptions()
			.until(() -> this.sentinelConnections.stream()
				.allMatch((connection) -> port(connection.sync().getMasterAddrByName(MASTER_NAME)) != old.port())
					&& master().admin((c) -> c.info("replication")).contains("role:master"));
		return master();
	}

	private int masterPort() {
		return port(this.sentinelConnections.get(0).sync().getMasterAddrByName(MASTER_NAME));
	}

	private static int port(@Nullable SocketAddress address) {
		if (!(address instanceof InetSocketAddress inet)) {
			throw new IllegalStateException("The sentinel names no master: " + address);
		}
		return inet.getPort();
	}

	@Override
	public void close() {
		this.sentinelConnections.forEach((connection) -> connection.closeAsync());
		this.sentinelClients.forEach((client) -> client.shutdown(Duration.ZERO, Duration.ofSeconds(2)));
		this.sentinels.forEach(RedisServer::close);
		this.replicationLink.close();
		this.first.close();
		this.second.close();
	}

}
