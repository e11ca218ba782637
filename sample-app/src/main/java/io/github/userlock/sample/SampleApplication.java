package io.github.userlock.sample;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.resource.Delay;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.boot.data.redis.autoconfigure.ClientResourcesBuilderCustomizer;
import org.springframework.boot.data.redis.autoconfigure.LettuceClientOptionsBuilderCustomizer;
import org.springframework.context.annotation.Bean;

/**
 * A points wallet, {@code GET /users/{uid}/points} and {@code POST /users/{uid}/points/grant|redeem?amount=N},
 * whose balances live in Redis and are updated with a deliberately non-atomic read, pause, write: run two
 * instances with {@code --lock.enabled=false} and concurrent redeems lose updates; with the lock they do not.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class SampleApplication {

	public static void main(String[] args) {
		SpringApplication.run(SampleApplication.class, args);
	}

	/**
	 * While Redis is unreachable, refuse Redis commands at once instead of queueing them until they time out.
	 * Besides answering 503 sooner, this means a command the caller was told had failed is never sent later
	 * when the connection comes back (a queued {@code SET} of a balance would otherwise land after the
	 * request already failed).
	 */
	@Bean
	LettuceClientOptionsBuilderCustomizer rejectCommandsWhileDisconnected() {
		return (builder) -> builder.disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS);
	}

	/**
	 * Lettuce retries a lost connection with an exponential back-off of up to 30 s by default; capping it at
	 * 1 s makes the application serve again within about a second of Redis coming back.
	 */
	@Bean
	ClientResourcesBuilderCustomizer fastReconnect() {
		return (builder) -> builder
			.reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS));
	}

}
