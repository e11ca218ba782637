package io.github.userlock.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * A points wallet, {@code GET /users/{uid}/points} and {@code POST
 * /users/{uid}/points/grant|redeem?amount=N}, whose balances live in Redis and are
 * updated with a deliberately non-atomic read, pause, write: run two instances with
 * {@code --lock.enabled=false} and concurrent redeems lose updates; with the lock they do
 * not.
 *
 * <p>
 * The Lettuce settings are in {@code RedisClientSettings}, one per Boot generation
 * ({@code src/boot3}, {@code src/boot4}): Boot 4 moved the customizer interfaces.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class SampleApplication {

	public static void main(String[] args) {
		SpringApplication.run(SampleApplication.class, args);
	}

}
