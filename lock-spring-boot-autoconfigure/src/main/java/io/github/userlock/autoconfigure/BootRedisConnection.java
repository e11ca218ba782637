package io.github.userlock.autoconfigure;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;

/**
 * The Redis connection Spring Boot configured for the application (host, port, database,
 * credentials, SSL bundle, Sentinel or Cluster), read from Boot's connection details
 * bean: {@code DataRedisConnectionDetails} on Boot 4.x, {@code RedisConnectionDetails} on
 * Boot 3.5.
 *
 * <p>
 * The two interfaces have the same methods under different packages; they are read by
 * method name so that one jar runs on both generations, and only the interface present on
 * the classpath is ever loaded. {@link LockRuntimeHints} registers these methods for
 * native images.
 *
 * @param username the user name, if any
 * @param password the password, if any
 * @param sslBundle the SSL bundle when SSL is on, {@code null} otherwise
 * @param database the database index (standalone and Sentinel)
 * @param nodes the one standalone node, the Sentinel nodes or the Cluster seed nodes
 * @param sentinelMaster the Sentinel master name, {@code null} unless Sentinel
 * @param sentinelUsername the user name of the Sentinel nodes, if any
 * @param sentinelPassword the password of the Sentinel nodes, if any
 * @param cluster whether {@code nodes} are Cluster seed nodes
 */
record BootRedisConnection(@Nullable String username, @Nullable String password, @Nullable SslBundle sslBundle,
		int database, List<Node> nodes, @Nullable String sentinelMaster, @Nullable String sentinelUsername,
		@Nullable String sentinelPassword, boolean cluster) {

	/** The connection details interface of Boot 4.x. */
	static final String BOOT_4_CONNECTION_DETAILS = "org.springframework.boot.data.redis.autoconfigure.DataRedisConnectionDetails";

	/** The connection details interface of Boot 3.5. */
	static final String BOOT_3_CONNECTION_DETAILS = "org.springframework.boot.autoconfigure.data.redis.RedisConnectionDetails";

	BootRedisConnection {
		nodes = List.copyOf(nodes);
		if (nodes.isEmpty()) {
			throw new IllegalArgumentException("Spring Boot's Redis connection details name no Redis node");
		}
	}

	boolean sentinel() {
		return this.sentinelMaster != null;
	}

	/**
	 * The connection details interface of the Boot generation on the classpath.
	 * @param classLoader where to look
	 * @return the interface, or {@code null} when Boot's Redis auto-configuration is not
	 * on the classpath
	 */
	static @Nullable Class<?> detailsType(@Nullable ClassLoader classLoader) {
		for (String name : new String[] { BOOT_4_CONNECTION_DETAILS, BOOT_3_CONNECTION_DETAILS }) {
			if (ClassUtils.isPresent(name, classLoader)) {
				return ClassUtils.resolveClassName(name, classLoader);
			}
		}
		return null;
	}

	/**
	 * Read the application's Redis connection details bean.
	 * @param beanFactory the application's bean factory
	 * @param classLoader the application's class loader
	 * @return the connection, or {@code null} when there is no unique connection details
	 * bean (Boot's Redis auto-configuration did not run)
	 */
	static @Nullable BootRedisConnection find(ListableBeanFactory beanFactory, @Nullable ClassLoader classLoader) {
		Class<?> type = detailsType(classLoader);
		if (type == null) {
			return null;
		}
		Object details = beanFactory.getBeanProvider(type).getIfUnique();
		return (details != null) ? read(type, details) : null;
	}

	/**
	 * Read connection details of either generation.
	 * @param type the connection details interface
	 * @param details an instance of it
	 * @return what it says
	 */
	static BootRedisConnection read(Class<?> type, Object details) {
		Object masterReplica = optional(type, details, "getMasterReplica");
		if (masterReplica != null) {
			throw new IllegalStateException("The application's Redis is a static master/replica setup "
					+ "(spring.data.redis.masterreplica.*), which the lock's Redis store does not support: use "
					+ "standalone, Sentinel or Cluster, or define your own LockRegistry bean.");
		}
		String username = (String) optional(type, details, "getUsername");
		String password = (String) optional(type, details, "getPassword");
		// Boot 4.x has one bundle for every mode; Boot 3.5 one per mode (read below)
		SslBundle sslBundle = (SslBundle) optional(type, details, "getSslBundle");
		Object sentinel = optional(type, details, "getSentinel");
		if (sentinel != null) {
			return new BootRedisConnection(username, password, bundle(sslBundle, sentinel),
					(int) required(sentinel, "getDatabase"), nodes(required(sentinel, "getNodes")),
					(String) required(sentinel, "getMaster"), (String) optional(sentinel, "getUsername"),
					(String) optional(sentinel, "getPassword"), false);
		}
		Object cluster = optional(type, details, "getCluster");
		if (cluster != null) {
			return new BootRedisConnection(username, password, bundle(sslBundle, cluster), 0,
					nodes(required(cluster, "getNodes")), null, null, null, true);
		}
		Object standalone = required(details, "getStandalone");
		Node node = new Node((String) required(standalone, "getHost"), (int) required(standalone, "getPort"));
		return new BootRedisConnection(username, password, bundle(sslBundle, standalone),
				(int) required(standalone, "getDatabase"), List.of(node), null, null, null, false);
	}

	private static @Nullable SslBundle bundle(@Nullable SslBundle common, Object mode) {
		return (common != null) ? common : (SslBundle) optional(mode, "getSslBundle");
	}

	private static List<Node> nodes(Object list) {
		List<Node> nodes = new ArrayList<>();
		for (Object node : (List<?>) list) {
			nodes.add(new Node((String) required(node, "host"), (int) required(node, "port")));
		}
		return nodes;
	}

	private static Object required(Object target, String method) {
		Object value = optional(target, method);
		if (value == null) {
			throw new IllegalStateException("Spring Boot's Redis connection details returned no value for "
					+ target.getClass().getName() + "." + method + "()");
		}
		return value;
	}

	private static @Nullable Object optional(Object target, String method) {
		return optional(publicType(target.getClass(), method), target, method);
	}

	private static @Nullable Object optional(Class<?> type, Object target, String name) {
		Method method = ReflectionUtils.findMethod(type, name);
		return (method != null) ? ReflectionUtils.invokeMethod(method, target) : null;
	}

	/**
	 * The public interface or class that declares {@code method} for {@code type}: Boot's
	 * implementations of the connection details are package-private, their interfaces are
	 * public.
	 */
	private static Class<?> publicType(Class<?> type, String method) {
		if (java.lang.reflect.Modifier.isPublic(type.getModifiers())) {
			return type;
		}
		for (Class<?> candidate : ClassUtils.getAllInterfacesForClassAsSet(type)) {
			if (java.lang.reflect.Modifier.isPublic(candidate.getModifiers())
					&& ReflectionUtils.findMethod(candidate, method) != null) {
				return candidate;
			}
		}
		return type;
	}

	/**
	 * A Redis node.
	 *
	 * @param host its host
	 * @param port its port
	 */
	record Node(String host, int port) {

	}

}
