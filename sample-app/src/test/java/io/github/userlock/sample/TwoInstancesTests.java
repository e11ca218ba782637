package io.github.userlock.sample;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.github.userlock.test.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two instances of the sample on one Redis, as two replicas behind a load balancer: concurrent redeems for
 * one user, half sent to each instance.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TwoInstancesTests {

	@RegisterExtension
	static RedisServerExtension redis = new RedisServerExtension();

	private static final int START = 1000;

	private static final int AMOUNT = 10;

	@Test
	void withTheLockEveryAcceptedRedeemIsDeductedAndTheOthersAreRefusedWith409() throws Exception {
		// each redeem holds the user's lock for 200 ms; a request waits at most 200 ms for it
		try (SampleInstance a = SampleInstance.start(redis.server(), "sample.work-delay=200ms",
				"lock.wait-time=200ms");
				SampleInstance b = SampleInstance.start(redis.server(), "sample.work-delay=200ms",
						"lock.wait-time=200ms")) {
			assertThat(a.grant("alice", Integer.toString(START)).statusCode()).isEqualTo(200);

			List<HttpResponse<String>> responses = burstOfRedeems(a, b, "alice", 12);

			long accepted = responses.stream().filter((r) -> r.statusCode() == 200).count();
			long conflicts = responses.stream().filter((r) -> r.statusCode() == 409).count();
			assertThat(accepted + conflicts).as("every answer is 200 or 409: %s", bodies(responses))
				.isEqualTo(responses.size());
			assertThat(accepted).isPositive();
			assertThat(conflicts).isPositive();
			assertThat(responses).filteredOn((r) -> r.statusCode() == 409).allSatisfy((r) -> {
				assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
				assertThat(r.headers().firstValue("Retry-After")).isPresent();
			});
			assertThat(a.balance("alice")).isEqualTo(START - AMOUNT * accepted);
			assertThat(b.balance("alice")).isEqualTo(START - AMOUNT * accepted);
		}
	}

	/** The control experiment: the same burst without the lock loses updates, so the test above is not vacuous. */
	@Test
	void withoutTheLockConcurrentRedeemsLoseUpdates() throws Exception {
		try (SampleInstance a = SampleInstance.start(redis.server(), "sample.work-delay=200ms",
				"lock.enabled=false");
				SampleInstance b = SampleInstance.start(redis.server(), "sample.work-delay=200ms",
						"lock.enabled=false")) {
			assertThat(a.grant("bob", Integer.toString(START)).statusCode()).isEqualTo(200);

			List<HttpResponse<String>> responses = burstOfRedeems(a, b, "bob", 8);

			assertThat(responses).allSatisfy((r) -> assertThat(r.statusCode()).isEqualTo(200));
			// 8 accepted redeems of 10 should leave 920; overlapping read-pause-write cycles leave more
			assertThat(a.balance("bob")).isGreaterThan(START - AMOUNT * responses.size());
		}
	}

	private static List<HttpResponse<String>> burstOfRedeems(SampleInstance a, SampleInstance b, String uid,
			int count) throws Exception {
		ExecutorService executor = Executors.newFixedThreadPool(count);
		try {
			CountDownLatch ready = new CountDownLatch(count);
			CountDownLatch go = new CountDownLatch(1);
			List<Future<HttpResponse<String>>> futures = new ArrayList<>();
			for (int i = 0; i < count; i++) {
				SampleInstance target = (i % 2 == 0) ? a : b;
				futures.add(executor.submit(() -> {
					ready.countDown();
					go.await();
					return target.redeem(uid, Integer.toString(AMOUNT));
				}));
			}
			assertThat(ready.await(10, TimeUnit.SECONDS)).isTrue();
			go.countDown();
			List<HttpResponse<String>> responses = new ArrayList<>();
			for (Future<HttpResponse<String>> future : futures) {
				responses.add(future.get(30, TimeUnit.SECONDS));
			}
			return responses;
		}
		finally {
			executor.shutdownNow();
		}
	}

	private static List<String> bodies(List<HttpResponse<String>> responses) {
		return responses.stream().map((r) -> r.statusCode() + " " + r.body()).toList();
	}

}
