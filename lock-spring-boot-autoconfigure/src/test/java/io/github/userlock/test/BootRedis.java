package io.github.userlock.test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.util.ClassUtils;

/**
 * Spring Boot's Redis auto-configuration of whichever Boot generation the tests run on
 * (Boot 4.x {@code DataRedisAutoConfiguration}, Boot 3.5 {@code RedisAutoConfiguration}):
 * the same tests run on every supported Boot line.
 */
public final class BootRedis {

	private static final String BOOT_4 = "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration";

	private static final String BOOT_3 = "org.springframework.boot.autoconfigure.data.redis.RedisAutoConfiguration";

	private BootRedis() {
	}

	/**
	 * Boot's Redis auto-configuration class on this classpath.
	 * @return the class
	 */
	public static Class<?> autoConfigurationClass() {
		ClassLoader loader = BootRedis.class.getClassLoader();
		String name = ClassUtils.isPresent(BOOT_4, loader) ? BOOT_4 : BOOT_3;
		return ClassUtils.resolveClassName(name, loader);
	}

	/**
	 * Boot's Redis auto-configuration followed by {@code others}.
	 * @param others more auto-configurations
	 * @return them all
	 */
	public static AutoConfigurations with(Class<?>... others) {
		Class<?>[] all = new Class<?>[others.length + 1];
		all[0] = autoConfigurationClass();
		System.arraycopy(others, 0, all, 1, others.length);
		return AutoConfigurations.of(all);
	}

	/**
	 * Whether the tests run on Boot 4.x.
	 * @return {@code true} on Boot 4.x, {@code false} on 3.5
	 */
	public static boolean isBoot4() {
		return ClassUtils.isPresent(BOOT_4, BootRedis.class.getClassLoader());
	}

}
