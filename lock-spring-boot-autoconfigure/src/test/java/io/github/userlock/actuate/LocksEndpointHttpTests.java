package io.github.userlock.actuate;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.github.userlock.LockHandle;
import io.github.userlock.LockRegistry;
import io.github.userlock.LockRequest;
import io.github.userlock.redis.RedisLockRegistry;
import io.github.userlock.test.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code locks} endpoint over real HTTP, in a web application on the real
 * redis-server: exposed, it lists this instance's locks and shows Redis's view of any
 * key; by default it is not exposed.
 */
@Timeout(90)
class LocksEndpointHttpTests {

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension();

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

	private final ObjectMapper json = new ObjectMapper();

	private final ExecutorService executor = Executors.newSingleThreadExecutor((runnable) -> {
		Thread thread = new Thread(runnable, "payer-1");
		thread.setDaemon(true);
		return thread;
	});

	private ConfigurableApplicationContext context;

	@AfterEach
	void close() throws InterruptedException {
		this.executor.shutdownNow();
		assertThat(this.executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
		if (this.context != null) {
			this.context.close();
		}
	}

	private ConfigurableApplicationContext start(String... properties) {
		this.context = new SpringApplicationBuilder(App.class)
			.properties("server.port=0", "spring.data.redis.host=" + redis.server().host(),
					"spring.data.redis.port=" + redis.server().port())
			.properties(properties)
			.run();
		return this.context;
	}

	private HttpResponse<String> get(String path) throws Exception {
		String port = this.context.getEnvironment().getProperty("local.server.port");
		HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
			.timeout(Duration.ofSeconds(10))
			.GET()
			.build();
		return this.http.send(request, HttpResponse.BodyHandlers.ofString());
	}

	@Test
	void exposedItListsHeldLocksAndShowsRedisViewOfAnyKey() throws Exception {
		start("management.endpoints.web.exposure.include=locks");
		LockRegistry registry = this.context.getBean(LockRegistry.class);
		CountDownLatch held = new CountDownLatch(1);
		CountDownLatch done = new CountDownLatch(1);
		Future<?> payer = this.executor.submit(() -> {
			try (LockHandle handle = registry.acquire(LockRequest.of("user/42").withNamespace("wallet"))) {
				held.countDown();
				done.await(30, TimeUnit.SECONDS);
			}
			return null;
		});
		assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
		LockHandle async = registry.acquire("order-7", Duration.ofSeconds(1));
		async.detachFromThread();
		// held by another instance: not in this instance's list, but in Redis
		RedisLockRegistry other = RedisLockRegistry.builder(redis.newClient()).build();
		try (LockHandle elsewhere = CompletableFuture.supplyAsync(() -> other.acquire("user-43", Duration.ofSeconds(1)))
			.get(10, TimeUnit.SECONDS)) {

			HttpResponse<String> list = get("/actuator/locks");
			assertThat(list.statusCode()).isEqualTo(200);
			JsonNode locks = this.json.readTree(list.body()).get("locks");
			assertThat(locks).hasSize(2);
			JsonNode wallet = find(locks, "user/42");
			assertThat(wallet.get("name").asString()).isEqualTo("wallet");
			assertThat(wallet.get("holder").asString()).isEqualTo("payer-1");
			assertThat(wallet.get("fencingToken").asLong()).isPositive();
			assertThat(Instant.parse(wallet.get("heldSince").asString())).isBefore(Instant.now().plusSeconds(1));
			assertThat(Duration.parse(wallet.get("leaseRemaining").asString())).isPositive()
				.isLessThanOrEqualTo(Duration.ofSeconds(30));
			JsonNode order = find(locks, "order-7");
			assertThat(order.get("name").asString()).isEqualTo("default");
			assertThat(order.get("holder").asString()).isEqualTo("async");
			// never the owner token that Redis keeps as the value
			List<String> values = redis.server()
				.admin((commands) -> commands.keys("user-lock:*}:*").stream().map(commands::get).toList());
			assertThat(values).hasSize(3).allSatisfy((value) -> assertThat(list.body()).doesNotContain(value));

			assertKey(get("/actuator/locks/wallet/user/42"), "user/42", "wallet", true);
			assertKey(get("/actuator/locks/default/user-43"), "user-43", "default", true);
			assertKey(get("/actuator/locks/default/nobody"), "nobody", "default", false);
			assertKey(get("/actuator/locks/wallet/user-43"), "user-43", "wallet", false);
		}
		finally {
			other.close();
		}
		done.countDown();
		payer.get(10, TimeUnit.SECONDS);
		async.release();
		assertThat(this.json.readTree(get("/actuator/locks").body()).get("locks")).isEmpty();
	}

	@Test
	void readOnlyAnInvalidNameIsABadRequest() throws Exception {
		start("management.endpoints.web.exposure.include=locks");
		String port = this.context.getEnvironment().getProperty("local.server.port");
		HttpResponse<String> post = this.http
			.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/locks"))
				.timeout(Duration.ofSeconds(10))
				.POST(HttpRequest.BodyPublishers.noBody())
				.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(post.statusCode()).isEqualTo(405);
		HttpResponse<String> badName = get("/actuator/locks/bad%20name/user-1");
		assertThat(badName.statusCode()).isEqualTo(400);
	}

	@Test
	void notExposedByDefault() throws Exception {
		start();
		assertThat(this.context.getBeanNamesForType(LocksEndpoint.class)).isEmpty();
		assertThat(get("/actuator/locks").statusCode()).isEqualTo(404);
		assertThat(get("/actuator/locks/default/user-1").statusCode()).isEqualTo(404);
	}

	private static JsonNode find(JsonNode locks, String key) {
		for (JsonNode lock : locks) {
			if (lock.get("key").asString().equals(key)) {
				return lock;
			}
		}
		throw new AssertionError("No lock '" + key + "' in " + locks);
	}

	private void assertKey(HttpResponse<String> response, String key, String name, boolean held) {
		assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
		JsonNode body = this.json.readTree(response.body());
		assertThat(body.get("key").asString()).isEqualTo(key);
		assertThat(body.get("name").asString()).isEqualTo(name);
		assertThat(body.get("held").asBoolean()).isEqualTo(held);
		if (held) {
			assertThat(Duration.parse(body.get("leaseRemaining").asString())).isPositive()
				.isLessThanOrEqualTo(Duration.ofSeconds(30));
		}
		else {
			// the endpoint's JSON leaves out null fields
			assertThat(body.get("leaseRemaining")).isNull();
		}
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

	}

}
