package io.github.userlock.sample;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import io.github.userlock.test.RedisServer;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.json.JsonParser;
import org.springframework.boot.json.JsonParserFactory;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * One running instance of the sample (a full Spring Boot application on a random HTTP
 * port) and an HTTP client for it. Several instances on one {@link RedisServer} are the
 * "instances" of a scaled-out service.
 */
final class SampleInstance implements AutoCloseable {

	static final Duration HTTP_TIMEOUT = Duration.ofSeconds(15);

	// Boot's own parser: the same on every Boot line (Jackson 2 on 3.5, 3 on 4.x)
	private static final JsonParser json = JsonParserFactory.getJsonParser();

	private final ConfigurableApplicationContext context;

	private final HttpClient http;

	private final URI base;

	private SampleInstance(ConfigurableApplicationContext context) {
		this.context = context;
		// the property, not WebServerApplicationContext: Boot 4 moved that interface
		int port = context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
		this.base = URI.create("http://127.0.0.1:" + port);
		this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
	}

	/**
	 * Start an instance using {@code redis}, with the sample's {@code application.yml}
	 * plus {@code properties} ({@code "name=value"}).
	 */
	static SampleInstance start(RedisServer redis, String... properties) {
		List<String> all = new ArrayList<>(List.of("server.port=0", "spring.data.redis.host=127.0.0.1",
				"spring.data.redis.port=" + redis.port(), "sample.embedded-redis=false"));
		all.addAll(List.of(properties));
		return start(all.toArray(String[]::new));
	}

	/**
	 * Start an instance with the sample's {@code application.yml} plus {@code properties}
	 * only, passed as command-line arguments so that they override
	 * {@code application.yml}.
	 */
	static SampleInstance start(String... properties) {
		String[] args = Arrays.stream(properties).map((property) -> "--" + property).toArray(String[]::new);
		// main(...): the AOT-processed context is looked up by the main class's name
		ConfigurableApplicationContext context = new SpringApplicationBuilder(SampleApplication.class)
			.main(SampleApplication.class)
			.run(args);
		return new SampleInstance(context);
	}

	ConfigurableApplicationContext context() {
		return this.context;
	}

	HttpResponse<String> get(String uid) {
		return send(HttpRequest.newBuilder(uri("/users/" + uid + "/points")).GET());
	}

	HttpResponse<String> grant(String uid, String amount) {
		return send(HttpRequest.newBuilder(uri("/users/" + uid + "/points/grant?amount=" + amount))
			.POST(HttpRequest.BodyPublishers.noBody()));
	}

	HttpResponse<String> redeem(String uid, String amount) {
		return send(HttpRequest.newBuilder(uri("/users/" + uid + "/points/redeem?amount=" + amount))
			.POST(HttpRequest.BodyPublishers.noBody()));
	}

	HttpResponse<String> getPath(String pathAndQuery) {
		return send(HttpRequest.newBuilder(uri(pathAndQuery)).GET());
	}

	HttpResponse<String> post(String pathAndQuery) {
		return send(HttpRequest.newBuilder(uri(pathAndQuery)).POST(HttpRequest.BodyPublishers.noBody()));
	}

	/**
	 * The balance of {@code uid} as the API reports it; fails unless the answer is 200.
	 */
	long balance(String uid) {
		HttpResponse<String> response = get(uid);
		if (response.statusCode() != 200) {
			throw new AssertionError("GET balance of " + uid + ": " + response.statusCode() + " " + response.body());
		}
		return balanceOf(response);
	}

	static long balanceOf(HttpResponse<String> response) {
		return ((Number) json(response).get("balance")).longValue();
	}

	static Map<String, Object> json(HttpResponse<String> response) {
		return json.parseMap(response.body());
	}

	private URI uri(String pathAndQuery) {
		return this.base.resolve(pathAndQuery);
	}

	private HttpResponse<String> send(HttpRequest.Builder request) {
		try {
			return this.http.send(request.timeout(HTTP_TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	@Override
	public void close() {
		this.context.close();
	}

}
