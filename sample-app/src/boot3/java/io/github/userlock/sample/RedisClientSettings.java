package io.github.userlock.sample;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.resource.Delay;

import org.springframework.boot.autoconfigure.data.redis.ClientResourcesBuilderCustomizer;
import org.springframework.boot.autoconfigure.data.redis.LettuceClientOptionsBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The sample's Lettuce settings, for Spring Boot 3.5 (the customizer interfaces are in
 * {@code org.springframework.boot.autoconfigure.data.redis}; the same class for the other generation is in
 * {@code src/boot4/java}).
 */
@Configuration(proxyBeanMethods = false)
class RedisClientSettings {

	/**
	 * While Redis is unreachable, refuse Redis commands at once instead of queueing them
	 * until they time out. Besides answering 503 sooner, this means a command the caller
	 * was told had failed is never sent later when the connection comes back (a queued
	 * {@code SET} of a balance would otherwise land after the request already failed).
	 */
	@Bean
	LettuceClientOptionsBuilderCustomizer rejectCommandsWhileDisconnected() {
		return (builder) -> builder.disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS);
	}

	/**
	 * Lettuce retries a lost connection with an exponential back-off of up to 30 s by
	 * default; capping it at 1 s makes the application serve again within about a second
	 * of Redis coming back.
	 */
	@Bean
	ClientResourcesBuilderCustomizer fastReconnect() {
		return (builder) -> builder
			.reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS));
	}

}
