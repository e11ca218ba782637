package io.github.userlock.test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 extension that runs one or more real {@code redis-server} processes for a test class:
 *
 * <pre class="code">
 * &#64;RegisterExtension
 * static RedisServerExtension redis = new RedisServerExtension();
 * </pre>
 *
 * Guarantees:
 * <ul>
 * <li>the servers are started before all tests and stopped after all tests of the class that registered the
 * extension (nested classes share them);</li>
 * <li>before each test, every server that a previous test left paused is resumed, every stopped or killed
 * server is started again on its port, then all its data is flushed and its statistics reset
 * ({@code CONFIG RESETSTAT}), so {@link RedisServer#commandStats()} counts only the current test; every
 * {@link #newProxy() proxy} is put back in pass mode and listening;</li>
 * <li>the clients from {@link #client()}/{@link #newClient()} and the proxies from {@link #newProxy()} are
 * closed after all tests.</li>
 * </ul>
 * Server-side configuration changed by a test ({@code CONFIG SET}, loaded scripts) is not reset unless the
 * server was restarted. Register it in a {@code static} field: in an instance field, {@code beforeAll} is not
 * called (servers are then started lazily before the first test and only stopped at JVM exit).
 */
public final class RedisServerExtension implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback {

	/** The command timeout of clients created by this extension. */
	public static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(5);

	private final int serverCount;

	private final List<Consumer<RedisServer.Builder>> customizers = new ArrayList<>();

	private final List<RedisServer> servers = new CopyOnWriteArrayList<>();

	private final List<RedisClient> clients = new CopyOnWriteArrayList<>();

	private final List<FaultProxy> proxies = new CopyOnWriteArrayList<>();

	private @Nullable ClientResources clientResources;

	private @Nullable RedisClient defaultClient;

	private @Nullable String ownerId;

	/**
	 * One server with the default arguments.
	 */
	public RedisServerExtension() {
		this(1);
	}

	private RedisServerExtension(int serverCount) {
		if (serverCount < 1) {
			throw new IllegalArgumentException("serverCount must be at least 1: " + serverCount);
		}
		this.serverCount = serverCount;
	}

	/**
	 * An extension running {@code count} independent servers, each on its own port.
	 * @param count the number of servers
	 * @return a new extension
	 */
	public static RedisServerExtension withServers(int count) {
		return new RedisServerExtension(count);
	}

	/**
	 * Extra {@code redis-server} arguments for every server of this extension.
	 * @param args e.g. {@code "--maxmemory", "10mb"}
	 * @return this extension
	 */
	public RedisServerExtension withArgs(String... args) {
		return customize((builder) -> builder.args(args));
	}

	/**
	 * Require a password for the default user; clients from this extension authenticate with it.
	 * @param password the password
	 * @return this extension
	 */
	public RedisServerExtension withPassword(String password) {
		return customize((builder) -> builder.password(password));
	}

	/**
	 * Define an ACL user, see {@link RedisServer.Builder#aclUser(String)}.
	 * @param rule e.g. {@code "app on >secret ~user-lock:* +@all"}
	 * @return this extension
	 */
	public RedisServerExtension withAclUser(String rule) {
		return customize((builder) -> builder.aclUser(rule));
	}

	/**
	 * Any other server option.
	 * @param customizer applied to each server's builder
	 * @return this extension
	 */
	public RedisServerExtension customize(Consumer<RedisServer.Builder> customizer) {
		if (!this.servers.isEmpty()) {
			throw new IllegalStateException("Servers already created");
		}
		this.customizers.add(customizer);
		return this;
	}

	/**
	 * The first (or only) server.
	 * @return the server
	 */
	public RedisServer server() {
		return server(0);
	}

	/**
	 * One of the servers.
	 * @param index from 0 to {@code count - 1}
	 * @return the server
	 */
	public RedisServer server(int index) {
		return servers().get(index);
	}

	/**
	 * All servers, created (not necessarily started) on first access.
	 * @return the servers, in index order
	 */
	public synchronized List<RedisServer> servers() {
		if (this.servers.isEmpty()) {
			for (int i = 0; i < this.serverCount; i++) {
				RedisServer.Builder builder = RedisServer.builder();
				this.customizers.forEach((customizer) -> customizer.accept(builder));
				this.servers.add(builder.build());
			}
		}
		return List.copyOf(this.servers);
	}

	/**
	 * A shared client for the first server, created on first use and shut down after all tests.
	 * @return the client
	 */
	public synchronized RedisClient client() {
		RedisClient client = this.defaultClient;
		if (client == null) {
			client = newClient();
			this.defaultClient = client;
		}
		return client;
	}

	/**
	 * A new client for the first server, e.g. to act as a separate application instance. Shut down after all
	 * tests.
	 * @return a new client
	 */
	public RedisClient newClient() {
		return newClient(server());
	}

	/**
	 * A new client for a server, shut down after all tests.
	 * @param server the server (its credentials are used)
	 * @return a new client
	 */
	public RedisClient newClient(RedisServer server) {
		return newClient(server.redisUri());
	}

	/**
	 * A new client that connects through a proxy to the first server, with that server's credentials. Shut
	 * down after all tests.
	 * @param proxy a proxy in front of the first server
	 * @return a new client
	 */
	public RedisClient newClient(FaultProxy proxy) {
		return newClient(server().redisUri(proxy.port()));
	}

	/**
	 * A new client for any URI, shut down after all tests. Its default command timeout is
	 * {@link #CLIENT_TIMEOUT} unless the URI sets one.
	 * @param uri where to connect
	 * @return a new client
	 */
	public synchronized RedisClient newClient(RedisURI uri) {
		if (uri.getTimeout().equals(RedisURI.DEFAULT_TIMEOUT_DURATION)) {
			uri.setTimeout(CLIENT_TIMEOUT);
		}
		RedisClient client = RedisClient.create(resources(), uri);
		this.clients.add(client);
		return client;
	}

	/**
	 * A new {@link FaultProxy} in front of the first server, closed after all tests and reset to pass mode
	 * before each test.
	 * @return a new proxy
	 */
	public FaultProxy newProxy() {
		return newProxy(server());
	}

	/**
	 * A new {@link FaultProxy} in front of a server, closed after all tests and reset to pass mode before each
	 * test.
	 * @param server the target server
	 * @return a new proxy
	 */
	public FaultProxy newProxy(RedisServer server) {
		FaultProxy proxy = FaultProxy.to(server);
		this.proxies.add(proxy);
		return proxy;
	}

	@Override
	public void beforeAll(ExtensionContext context) {
		synchronized (this) {
			if (this.ownerId == null) {
				this.ownerId = context.getUniqueId();
			}
		}
		servers().forEach(RedisServer::start);
	}

	@Override
	public void beforeEach(ExtensionContext context) {
		for (RedisServer server : servers()) {
			if (server.isPaused()) {
				server.resume();
			}
			if (!server.isRunning()) {
				server.start();
			}
			server.flushAll();
			server.resetStats();
		}
		this.proxies.removeIf(FaultProxy::isClosed);
		for (FaultProxy proxy : this.proxies) {
			proxy.refuse(false).pass();
		}
	}

	@Override
	public void afterAll(ExtensionContext context) {
		synchronized (this) {
			if (!context.getUniqueId().equals(this.ownerId)) {
				return;
			}
			this.ownerId = null;
		}
		RuntimeException failure = null;
		for (RedisClient client : this.clients) {
			try {
				client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
			}
			catch (RuntimeException ex) {
				failure = record(failure, ex);
			}
		}
		this.clients.clear();
		this.defaultClient = null;
		for (FaultProxy proxy : this.proxies) {
			proxy.close();
		}
		this.proxies.clear();
		for (RedisServer server : this.servers) {
			try {
				server.close();
			}
			catch (RuntimeException ex) {
				failure = record(failure, ex);
			}
		}
		ClientResources resources;
		synchronized (this) {
			resources = this.clientResources;
			this.clientResources = null;
		}
		if (resources != null) {
			resources.shutdown(0, 2, TimeUnit.SECONDS);
		}
		if (failure != null) {
			throw failure;
		}
	}

	private synchronized ClientResources resources() {
		ClientResources resources = this.clientResources;
		if (resources == null) {
			resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2).build();
			this.clientResources = resources;
		}
		return resources;
	}

	private static RuntimeException record(@Nullable RuntimeException failure, RuntimeException ex) {
		if (failure == null) {
			return ex;
		}
		failure.addSuppressed(ex);
		return failure;
	}

}
