package io.github.userlock.autoconfigure;

import io.github.userlock.UserLock;
import org.jspecify.annotations.Nullable;

import org.springframework.aot.hint.MemberCategory;
import org.springframework.aot.hint.RuntimeHints;
import org.springframework.aot.hint.RuntimeHintsRegistrar;
import org.springframework.boot.context.properties.bind.BindableRuntimeHintsRegistrar;

/**
 * What a native image of an application using the lock needs beyond what Spring's AOT
 * processing finds by itself: the Lua scripts of the Redis engine (class-path resources),
 * the binding of {@link LockProperties}, the SpEL root object of lock keys,
 * {@code @UserLock} synthesized as a meta-annotation, and the methods of Boot's Redis
 * connection details, which {@link BootRedisConnection} calls by name. The
 * {@code @UserLock} methods of the application's beans are registered by
 * {@code UserLockBeanRegistrationAotProcessor}. Registered through
 * {@code META-INF/spring/aot.factories}.
 */
final class LockRuntimeHints implements RuntimeHintsRegistrar {

	/** The Lua scripts of the Redis engine. */
	static final String SCRIPTS = "io/github/userlock/redis/*.lua";

	private static final String[] CONNECTION_DETAILS = { BootRedisConnection.BOOT_4_CONNECTION_DETAILS,
			BootRedisConnection.BOOT_3_CONNECTION_DETAILS };

	private static final String[] CONNECTION_DETAILS_PARTS = { "Standalone", "Sentinel", "Cluster", "Node",
			"MasterReplica" };

	@Override
	public void registerHints(RuntimeHints hints, @Nullable ClassLoader classLoader) {
		hints.resources().registerPattern(SCRIPTS);
		BindableRuntimeHintsRegistrar.forTypes(LockProperties.class).registerHints(hints, classLoader);
		hints.reflection()
			.registerTypeIfPresent(classLoader, "io.github.userlock.aop.LockExpressionRoot",
					MemberCategory.INVOKE_PUBLIC_METHODS);
		hints.reflection().registerType(UserLock.class, MemberCategory.INVOKE_PUBLIC_METHODS);
		hints.proxies().registerJdkProxy(UserLock.class);
		for (String details : CONNECTION_DETAILS) {
			hints.reflection().registerTypeIfPresent(classLoader, details, MemberCategory.INVOKE_PUBLIC_METHODS);
			for (String part : CONNECTION_DETAILS_PARTS) {
				hints.reflection()
					.registerTypeIfPresent(classLoader, details + "$" + part, MemberCategory.INVOKE_PUBLIC_METHODS);
			}
		}
	}

}
