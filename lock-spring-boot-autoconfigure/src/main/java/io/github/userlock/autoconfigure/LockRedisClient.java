package io.github.userlock.autoconfigure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.ssl.SslBundle;

/**
 * A Lettuce client of the lock's own, for applications whose connection factory is not
 * Lettuce (Jedis): built from the same Spring Boot connection details the application's
 * factory was built from, owned by the lock and shut down after the registry closed.
 */
final class LockRedisClient implements AutoCloseable {

	private final List<RedisURI> uris;

	private final AbstractRedisClient client;

	private LockRedisClient(List<RedisURI> uris, AbstractRedisClient client) {
		this.uris = List.copyOf(uris);
		this.client = client;
	}

	/**
	 * Create a client (no connection is opened yet).
	 * @param connection what Boot says about the application's Redis
	 * @param ssl whether the application connects with SSL
	 * @param clientName the connection name ({@code spring.data.redis.client-name}), if
	 * any
	 * @param connectTimeout the connect timeout, {@code null} for Lettuce's default
	 * @return the client
	 */
	static LockRedisClient create(BootRedisConnection connection, boolean ssl, @Nullable String clientName,
			@Nullable Duration connectTimeout) {
		List<RedisURI> uris = uris(connection, ssl || connection.sslBundle() != null, clientName);
		SocketOptions.Builder socket = SocketOptions.builder();
		if (connectTimeout != null) {
			socket.connectTimeout(connectTimeout);
		}
		SslOptions sslOptions = (connection.sslBundle() != null) ? sslOptions(connection.sslBundle()) : null;
		if (connection.cluster()) {
			ClusterClientOptions.Builder options = ClusterClientOptions.builder().socketOptions(socket.build());
			if (sslOptions != null) {
				options.sslOptions(sslOptions);
			}
			RedisClusterClient client = RedisClusterClient.create(uris);
			client.setOptions(options.build());
			return new LockRedisClient(uris, client);
		}
		ClientOptions.Builder options = ClientOptions.builder().socketOptions(socket.build());
		if (sslOptions != null) {
			options.sslOptions(sslOptions);
		}
		RedisClient client = RedisClient.create(uris.get(0));
		client.setOptions(options.build());
		return new LockRedisClient(uris, client);
	}

	private static List<RedisURI> uris(BootRedisConnection connection, boolean ssl, @Nullable String clientName) {
		List<RedisURI> uris = new ArrayList<>();
		if (connection.sentinel()) {
			RedisURI.Builder builder = RedisURI.builder().withSentinelMasterId(connection.sentinelMaster());
			for (BootRedisConnection.Node node : connection.nodes()) {
				RedisURI.Builder sentinel = RedisURI.Builder.redis(node.host(), node.port());
				credentials(sentinel, connection.sentinelUsername(), connection.sentinelPassword());
				builder.withSentinel(sentinel.build());
			}
			uris.add(common(builder, connection, ssl, clientName).withDatabase(connection.database()).build());
			return uris;
		}
		for (BootRedisConnection.Node node : connection.nodes()) {
			RedisURI.Builder builder = common(RedisURI.Builder.redis(node.host(), node.port()), connection, ssl,
					clientName);
			if (!connection.cluster()) {
				builder.withDatabase(connection.database());
			}
			uris.add(builder.build());
		}
		return uris;
	}

	private static RedisURI.Builder common(RedisURI.Builder builder, BootRedisConnection connection, boolean ssl,
			@Nullable String clientName) {
		credentials(builder, connection.username(), connection.password());
		builder.withSsl(ssl);
		if (clientName != null && !clientName.isEmpty()) {
			builder.withClientName(clientName);
		}
		return builder;
	}

	private static void credentials(RedisURI.Builder builder, @Nullable String username, @Nullable String password) {
		if (password == null || password.isEmpty()) {
			return;
		}
		if (username != null && !username.isEmpty()) {
			builder.withAuthentication(username, password);
		}
		else {
			builder.withPassword(password.toCharArray());
		}
	}

	private static SslOptions sslOptions(SslBundle bundle) {
		SslOptions.Builder builder = SslOptions.builder()
			.jdkSslProvider()
			.keyManager(bundle.getManagers().getKeyManagerFactory())
			.trustManager(bundle.getManagers().getTrustManagerFactory());
		org.springframework.boot.ssl.SslOptions options = bundle.getOptions();
		if (options.getCiphers() != null) {
			builder.cipherSuites(options.getCiphers());
		}
		if (options.getEnabledProtocols() != null) {
			builder.protocols(options.getEnabledProtocols());
		}
		return builder.build();
	}

	/** The client: a {@link RedisClient} or, on Cluster, a {@link RedisClusterClient}. */
	AbstractRedisClient client() {
		return this.client;
	}

	/**
	 * Where the client connects: one URI (standalone, or Sentinel with its sentinels) or
	 * the Cluster seed nodes.
	 */
	List<RedisURI> uris() {
		return this.uris;
	}

	@Override
	public void close() {
		this.client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
	}

}
