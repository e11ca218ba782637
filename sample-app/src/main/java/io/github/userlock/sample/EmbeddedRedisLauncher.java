package io.github.userlock.sample;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Set;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisServer;
import redis.embedded.exceptions.EmbeddedRedisException;

import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.DefaultSingletonBeanRegistry;
import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.boot.context.event.ApplicationFailedEvent;
import org.springframework.boot.context.event.ApplicationPreparedEvent;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.event.GenericApplicationListener;
import org.springframework.core.Ordered;
import org.springframework.core.ResolvableType;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Starts an embedded {@code redis-server} (the binary in
 * {@code org.signal:embedded-redis}) on {@code spring.data.redis.port} when the
 * configured host is this machine and nothing listens on that port, so that the sample
 * runs with nothing installed; a second instance then finds the port taken and shares
 * that server. Turned off by {@code sample.embedded-redis=false}, a
 * {@code spring.data.redis.url}, Sentinel or Cluster configuration, or a host other than
 * {@code localhost}/{@code 127.0.0.1}.
 *
 * <p>
 * Why a listener registered in {@code META-INF/spring.factories} and not a bean: it
 * handles {@link ApplicationEnvironmentPreparedEvent}, which {@code SpringApplication}
 * publishes once the configuration (files, command line, test properties) is known and
 * before the application context even exists, so the server is up before any bean, in
 * particular the Redis connection factory and the lock registry, can connect, whatever
 * their creation order. A bean would have to be made a dependency of each of those. On
 * {@link ApplicationPreparedEvent} it registers the server's shutdown as the first
 * disposable bean of the context, so the context destroys it last, after the connection
 * factory and the lock registry are closed (they may still talk to Redis while closing);
 * on {@link ApplicationFailedEvent} it stops it too.
 */
public final class EmbeddedRedisLauncher implements GenericApplicationListener {

	private static final Logger logger = LoggerFactory.getLogger(EmbeddedRedisLauncher.class);

	private static final Set<String> LOCAL_HOSTS = Set.of("localhost", "127.0.0.1");

	private @Nullable RedisServer server;

	@Override
	public boolean supportsEventType(ResolvableType eventType) {
		Class<?> type = eventType.getRawClass();
		return type != null && (ApplicationEnvironmentPreparedEvent.class.isAssignableFrom(type)
				|| ApplicationPreparedEvent.class.isAssignableFrom(type)
				|| ApplicationFailedEvent.class.isAssignableFrom(type));
	}

	/**
	 * After the configuration files are loaded (that happens on the same event, at a
	 * higher precedence).
	 */
	@Override
	public int getOrder() {
		return Ordered.LOWEST_PRECEDENCE;
	}

	@Override
	public void onApplicationEvent(ApplicationEvent event) {
		if (event instanceof ApplicationEnvironmentPreparedEvent prepared) {
			startIfNeeded(prepared.getEnvironment());
		}
		else if (event instanceof ApplicationPreparedEvent prepared) {
			ConfigurableListableBeanFactory beanFactory = prepared.getApplicationContext().getBeanFactory();
			if (this.server != null && beanFactory instanceof DefaultSingletonBeanRegistry registry) {
				registry.registerDisposableBean("embeddedRedisServer", this::stop);
			}
		}
		else if (event instanceof ApplicationFailedEvent) {
			stop();
		}
	}

	private synchronized void startIfNeeded(ConfigurableEnvironment environment) {
		boolean enabled = Binder.get(environment).bind("sample.embedded-redis", Boolean.class).orElse(true);
		String host = environment.getProperty("spring.data.redis.host", "localhost");
		int port = environment.getProperty("spring.data.redis.port", Integer.class, 6379);
		if (!enabled || this.server != null || !LOCAL_HOSTS.contains(host)
				|| environment.containsProperty("spring.data.redis.url")
				|| environment.containsProperty("spring.data.redis.sentinel.master")
				|| environment.containsProperty("spring.data.redis.cluster.nodes[0]")
				|| environment.containsProperty("spring.data.redis.cluster.nodes")) {
			return;
		}
		if (listening(port)) {
			logger.info("Using the Redis already listening on {}:{}", host, port);
			return;
		}
		RedisServer server = RedisServer.builder()
			.port(port)
			// "-::1": also on IPv6 loopback when the machine has it, as "localhost" may
			// resolve there
			.setting("bind 127.0.0.1 -::1")
			.setting("save \"\"")
			.setting("appendonly no")
			.build();
		try {
			server.start();
		}
		catch (EmbeddedRedisException ex) {
			if (listening(port)) {
				// another instance started one at the same moment: share it
				logger.info("Using the Redis another process started on {}:{}", host, port);
				return;
			}
			throw new IllegalStateException(
					"Cannot start the embedded redis-server on port " + port
							+ "; set spring.data.redis.host/port to a running Redis or sample.embedded-redis=false",
					ex);
		}
		this.server = server;
		logger.info("Started an embedded redis-server on 127.0.0.1:{}; it stops with this application", port);
	}

	private synchronized void stop() {
		RedisServer server = this.server;
		if (server == null) {
			return;
		}
		this.server = null;
		try {
			server.stop();
			logger.info("Stopped the embedded redis-server");
		}
		catch (EmbeddedRedisException ex) {
			logger.warn("Could not stop the embedded redis-server", ex);
		}
	}

	/** Whether something accepts connections on 127.0.0.1:{@code port}. */
	static boolean listening(int port) {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

}
