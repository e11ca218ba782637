package io.github.userlock.autoconfigure;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockHandle;
import io.github.userlock.LockRegistry;
import io.github.userlock.LockRequest;
import io.github.userlock.UserLock;
import io.github.userlock.test.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.util.ClassUtils;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.bind.annotation.RestControllerAdvice;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lock exceptions reaching a WebFlux controller become the same RFC 9457 problem details
 * as in Spring MVC: a WebFlux application on Reactor Netty (random port) on the real
 * redis-server, called over HTTP, a controller calling a {@code @UserLock} method that
 * returns a {@code Mono}. The application's own handler wins.
 */
@Timeout(90)
class LockWebFluxProblemDetailsTests {

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension();

	/** Boot 4.x, then Boot 3.5. */
	private static final String[] NETTY_FACTORIES = {
			"org.springframework.boot.reactor.netty.NettyReactiveWebServerFactory",
			"org.springframework.boot.web.embedded.netty.NettyReactiveWebServerFactory" };

	/** In the query, not the path: the problem's {@code instance} is the path. */
	private static final String UID = "u-7f3a91";

	private ConfigurableApplicationContext context;

	private WebTestClient client;

	@AfterEach
	void close() {
		if (this.context != null) {
			this.context.close();
		}
	}

	private void start(Class<?>... sources) {
		this.context = new SpringApplicationBuilder(App.class).sources(sources)
			.web(WebApplicationType.REACTIVE)
			// Tomcat, for the MVC tests, is on the classpath too and would serve a
			// reactive
			// application on Boot 3.5: ask for Netty
			.initializers((context) -> ((GenericApplicationContext) context).registerBean("reactiveWebServerFactory",
					nettyFactory()))
			.properties("server.port=0", "spring.data.redis.host=" + redis.server().host(),
					"spring.data.redis.port=" + redis.server().port(), "lock.command-timeout=500ms")
			.run();
		String port = this.context.getEnvironment().getProperty("local.server.port");
		this.client = WebTestClient.bindToServer()
			.baseUrl("http://127.0.0.1:" + port)
			.responseTimeout(Duration.ofSeconds(20))
			.build();
	}

	private static Class<?> nettyFactory() {
		ClassLoader loader = LockWebFluxProblemDetailsTests.class.getClassLoader();
		for (String name : NETTY_FACTORIES) {
			if (ClassUtils.isPresent(name, loader)) {
				return ClassUtils.resolveClassName(name, loader);
			}
		}
		throw new IllegalStateException("No Reactor Netty web server factory on the classpath");
	}

	private WebTestClient.ResponseSpec redeem() {
		return this.client.get().uri((uri) -> uri.path("/points").queryParam("uid", UID).build()).exchange();
	}

	@Test
	void runsOnReactorNettyWithTheHandler() throws Exception {
		start();
		Object webServer = this.context.getClass().getMethod("getWebServer").invoke(this.context);
		assertThat(webServer.getClass().getSimpleName()).isEqualTo("NettyWebServer");
		assertThat(this.context.getBeanNamesForType(LockExceptionHandler.class))
			.containsExactly("lockExceptionHandler");
		redeem().expectStatus().isOk().expectBody(String.class).isEqualTo("redeemed " + UID);
	}

	@Test
	void heldKeyBecomes409ProblemDetailsWithRetryAfter() {
		start();
		LockRegistry registry = this.context.getBean(LockRegistry.class);
		try (LockHandle held = registry.acquire(LockRequest.of(UID).withWaitTime(Duration.ZERO))) {
			long start = System.nanoTime();
			byte[] body = redeem().expectStatus()
				.isEqualTo(HttpStatus.CONFLICT)
				.expectHeader()
				.contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
				.expectHeader()
				.value("Retry-After", (retryAfter) -> {
					// ceil(time waited): the method waits 1200 ms for the holder
					long elapsedSeconds = (System.nanoTime() - start + 999_999_999L) / 1_000_000_000L;
					assertThat(Long.parseLong(retryAfter)).isBetween(2L, Math.max(2L, elapsedSeconds));
				})
				.expectBody()
				.jsonPath("$.status")
				.isEqualTo(409)
				.jsonPath("$.title")
				.isEqualTo("Conflict")
				.jsonPath("$.detail")
				.exists()
				.jsonPath("$.instance")
				.isEqualTo("/points")
				.returnResult()
				.getResponseBodyContent();
			assertThat(new String(body, StandardCharsets.UTF_8)).doesNotContain(UID);
		}
		// released: the same call goes through
		redeem().expectStatus().isOk();
	}

	@Test
	void unreachableRedisBecomes503ProblemDetails() {
		start();
		redeem().expectStatus().isOk();
		redis.server().stop();
		redeem().expectStatus()
			.isEqualTo(HttpStatus.SERVICE_UNAVAILABLE)
			.expectHeader()
			.contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
			.expectBody()
			.jsonPath("$.status")
			.isEqualTo(503)
			.jsonPath("$.title")
			.isEqualTo("Service Unavailable");
	}

	@Test
	void applicationExceptionHandlerWins() {
		start(OwnAdvice.class);
		assertThat(this.context.getBeanNamesForType(LockExceptionHandler.class)).hasSize(1);
		LockRegistry registry = this.context.getBean(LockRegistry.class);
		try (LockHandle held = registry.acquire(LockRequest.of(UID).withWaitTime(Duration.ZERO))) {
			redeem().expectStatus()
				.isEqualTo(HttpStatus.TOO_MANY_REQUESTS)
				.expectBody(String.class)
				.isEqualTo("own handler");
		}
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import({ PointsController.class, Points.class })
	static class App {

	}

	@RestController
	static class PointsController {

		private final Points points;

		PointsController(Points points) {
			this.points = points;
		}

		/**
		 * The lock is acquired when the {@code Mono} is subscribed to; subscribing on
		 * bounded-elastic keeps a blocking acquisition off the event loop.
		 */
		@GetMapping("/points")
		Mono<String> redeem(@RequestParam String uid) {
			return this.points.redeem(uid).subscribeOn(Schedulers.boundedElastic());
		}

	}

	static class Points {

		@UserLock(key = "#uid", waitTime = "1200ms")
		public Mono<String> redeem(String uid) {
			return Mono.fromSupplier(() -> "redeemed " + uid);
		}

	}

	@RestControllerAdvice
	static class OwnAdvice {

		@ExceptionHandler(LockConflictException.class)
		ResponseEntity<String> conflict(LockConflictException ex) {
			return ResponseEntity.status(HttpStatus.TOO_MANY_REQUESTS).body("own handler");
		}

	}

}
