package io.github.userlock.benchmarks;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;

/**
 * One application instance as users run it: a Spring Boot application context with
 * auto-configuration (as {@code @SpringBootApplication} gives, without component
 * scanning), configured only through properties. Boot builds the Lettuce connection
 * factory from {@code spring.data.redis.*}; with the starter on the class path its
 * auto-configuration adds our registry, configured from {@code lock.*}. A peer's instance
 * excludes our auto-configuration, as an application without the starter.
 */
final class BootInstance {

	private BootInstance() {
	}

	/**
	 * Starts an instance against {@code settings}' Redis with {@code properties} on top.
	 */
	static ConfigurableApplicationContext start(ClientSettings settings, Map<String, String> properties) {
		Map<String, Object> all = new LinkedHashMap<>();
		all.put("spring.data.redis.host", settings.host());
		all.put("spring.data.redis.port", Integer.toString(settings.port()));
		all.put("spring.main.banner-mode", "off");
		all.putAll(properties);
		return new SpringApplicationBuilder(Application.class).web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.registerShutdownHook(false)
			.properties(all)
			.run();
	}

	/** The instance's application class. */
	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class Application {

	}

}
