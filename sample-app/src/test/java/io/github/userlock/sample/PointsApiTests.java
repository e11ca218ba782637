package io.github.userlock.sample;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.github.userlock.LockHandle;
import io.github.userlock.redis.RedisLockRegistry;
import io.github.userlock.test.RedisServerExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The HTTP contract of one instance on a real redis-server: answers, problem details, and
 * that bad input writes nothing.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PointsApiTests {

	@RegisterExtension
	static RedisServerExtension redis = new RedisServerExtension();

	private static SampleInstance app;

	@BeforeAll
	static void start() {
		app = SampleInstance.start(redis.server(), "sample.work-delay=10ms", "lock.wait-time=300ms");
	}

	@AfterAll
	static void stop() {
		if (app != null) {
			app.close();
		}
	}

	@Test
	void unknownUserHasBalanceZeroAndGrantAndRedeemUpdateIt() {
		assertThat(app.balance("carol")).isZero();
		HttpResponse<String> granted = app.grant("carol", "50");
		assertThat(granted.statusCode()).isEqualTo(200);
		assertThat(SampleInstance.json(granted).get("uid")).isEqualTo("carol");
		assertThat(SampleInstance.balanceOf(granted)).isEqualTo(50);
		HttpResponse<String> redeemed = app.redeem("carol", "20");
		assertThat(redeemed.statusCode()).isEqualTo(200);
		assertThat(SampleInstance.balanceOf(redeemed)).isEqualTo(30);
		assertThat(app.balance("carol")).isEqualTo(30);
		assertThat(redis.server().<String>admin((c) -> c.get("points:carol"))).isEqualTo("30");
	}

	@ParameterizedTest(name = "{0} {1}?amount={2}")
	@CsvSource(delimiter = '|',
			value = { "grant|dave|0", "grant|dave|-5", "grant|dave|abc", "grant|dave|1.5",
					"grant|dave|99999999999999999999", "redeem|dave|0", "redeem|dave|-1", "redeem|dave|ten",
					"grant|%20|10", "redeem|%20|10", "grant|%20%20%09|10" })
	void badAmountOrUidIs400ProblemAndWritesNothing(String operation, String uid, String amount) {
		assertBadRequestWritesNothing(app.post("/users/" + uid + "/points/" + operation + "?amount=" + amount));
	}

	@Test
	void actuatorShowsHeldLocksAndLockMetricsForPrometheus() {
		assertThat(app.getPath("/actuator/health").statusCode()).isEqualTo(200);
		app.grant("erin", "10");
		RedisLockRegistry registry = app.context().getBean(RedisLockRegistry.class);
		try (LockHandle held = registry.acquire("erin", Duration.ofSeconds(1))) {
			HttpResponse<String> locks = app.getPath("/actuator/locks");
			assertThat(locks.statusCode()).isEqualTo(200);
			@SuppressWarnings("unchecked")
			List<Map<String, Object>> heldLocks = (List<Map<String, Object>>) SampleInstance.json(locks).get("locks");
			assertThat(heldLocks).anySatisfy((lock) -> {
				assertThat(lock.get("key")).isEqualTo("erin");
				assertThat(((Number) lock.get("fencingToken")).longValue()).isEqualTo(held.fencingToken());
			});
			HttpResponse<String> key = app.getPath("/actuator/locks/default/erin");
			assertThat(SampleInstance.json(key).get("held")).isEqualTo(Boolean.TRUE);
		}
		HttpResponse<String> prometheus = app.getPath("/actuator/prometheus");
		assertThat(prometheus.statusCode()).isEqualTo(200);
		assertThat(prometheus.body())
			.containsPattern(
					"lock_acquire_seconds_count\\{error=\"none\",lock_name=\"default\",outcome=\"acquired\"\\} \\d+")
			.containsPattern(
					"lock_call_seconds_count\\{error=\"none\",lock_name=\"default\",method=\"PointsService.grant\",outcome=\"success\"\\} \\d+")
			.contains("lock_acquire_seconds_bucket{")
			.contains("lock_held_seconds_count{lock_name=\"default\"}");
		assertThat(app.getPath("/actuator/metrics/lock.acquire").statusCode()).isEqualTo(200);
	}

	@Test
	void missingAmountIs400ProblemAndWritesNothing() {
		assertBadRequestWritesNothing(app.post("/users/dave/points/grant"));
	}

	@Test
	void uidLongerThanTheLockAcceptsIs400ProblemAndWritesNothing() {
		String tooLong = "u".repeat(513);
		assertBadRequestWritesNothing(app.grant(tooLong, "10"));
		assertBadRequestWritesNothing(app.redeem(tooLong, "10"));
		assertThat(app.get(tooLong).statusCode()).isEqualTo(400);
		// the longest accepted uid works
		assertThat(app.grant("u".repeat(512), "10").statusCode()).isEqualTo(200);
	}

	@Test
	void blankUidOnReadIs400Problem() {
		HttpResponse<String> response = app.get("%20");
		assertThat(response.statusCode()).isEqualTo(400);
		assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
	}

	@Test
	void redeemOfMoreThanTheBalanceIs422ProblemAndLeavesTheBalance() {
		assertThat(app.grant("erin", "50").statusCode()).isEqualTo(200);
		HttpResponse<String> response = app.redeem("erin", "80");
		assertThat(response.statusCode()).isEqualTo(422);
		assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
		assertThat(((Number) SampleInstance.json(response).get("status")).intValue()).isEqualTo(422);
		assertThat(app.balance("erin")).isEqualTo(50);
		assertThat(app.redeem("erin", "50").statusCode()).isEqualTo(200);
		assertThat(app.balance("erin")).isZero();
	}

	@Test
	void redeemWhileAnotherInstanceHoldsTheUsersLockIs409WithRetryAfter() {
		// another instance: its own client and registry on the same Redis, with the
		// starter's default prefix
		try (RedisLockRegistry other = RedisLockRegistry.builder(redis.newClient()).build();
				LockHandle held = other.acquire("frank", Duration.ofSeconds(1))) {
			assertThat(held.isHeld()).isTrue();
			HttpResponse<String> response = app.redeem("frank", "10");
			assertThat(response.statusCode()).isEqualTo(409);
			assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
			assertThat(response.headers().firstValue("Retry-After")).isPresent();
			assertThat(redis.server().<Long>admin((c) -> c.exists("points:frank"))).isZero();
		}
		// released: the same request goes through
		assertThat(app.grant("frank", "10").statusCode()).isEqualTo(200);
	}

	@Test
	void withRedisStoppedRequestsGet503WithinSecondsAndServeAgainAfterRestart() {
		assertThat(app.grant("grace", "10").statusCode()).isEqualTo(200);
		redis.server().stop();

		HttpResponse<String> redeem = timed(() -> app.redeem("grace", "5"));
		HttpResponse<String> grant = timed(() -> app.grant("grace", "5"));
		HttpResponse<String> read = timed(() -> app.get("grace"));
		assertThat(redeem.statusCode()).as(redeem.body()).isEqualTo(503);
		assertThat(grant.statusCode()).as(grant.body()).isEqualTo(503);
		assertThat(read.statusCode()).as(read.body()).isEqualTo(503);
		assertThat(redeem.headers().firstValue("Content-Type")).hasValue("application/problem+json");
		assertThat(read.headers().firstValue("Content-Type")).hasValue("application/problem+json");

		redis.server().start();
		// the restarted server is empty (no persistence): the first grant after recovery
		// starts from 0
		await().atMost(Duration.ofSeconds(15))
			.pollInterval(Duration.ofMillis(100))
			.untilAsserted(() -> assertThat(app.grant("grace", "7").statusCode()).isEqualTo(200));
		assertThat(app.redeem("grace", "7").statusCode()).isEqualTo(200);
		assertThat(app.balance("grace")).isZero();
	}

	/**
	 * Runs a request that must be answered within 5 s (the sample bounds Redis calls to 2
	 * s).
	 */
	private static HttpResponse<String> timed(Supplier<HttpResponse<String>> request) {
		long startedAt = System.nanoTime();
		HttpResponse<String> response = request.get();
		assertThat(Duration.ofNanos(System.nanoTime() - startedAt)).as("answer time").isLessThan(Duration.ofSeconds(5));
		return response;
	}

	private static void assertBadRequestWritesNothing(HttpResponse<String> response) {
		assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
		assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
		assertThat(((Number) SampleInstance.json(response).get("status")).intValue()).isEqualTo(400);
		assertThat(redis.server().keyCount()).as("keys in Redis").isZero();
	}

}
