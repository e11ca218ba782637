package com.example.consumer;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.github.userlock.LockRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import redis.embedded.RedisServer;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/** The starter as a user gets it, on a real redis-server. */
@SpringBootTest
@Timeout(120)
class ConsumerApplicationTests {

	private static RedisServer redis;

	private static int port;

	@Autowired
	private Wallet wallet;

	@Autowired
	private LockRegistry registry;

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry properties) throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			port = socket.getLocalPort();
		}
		redis = RedisServer.builder().port(port).setting("bind 127.0.0.1").setting("save \"\"").build();
		redis.start();
		properties.add("spring.data.redis.host", () -> "127.0.0.1");
		properties.add("spring.data.redis.port", () -> port);
	}

	@AfterAll
	static void stopRedis() throws IOException {
		if (redis != null) {
			redis.stop();
		}
	}

	@Test
	void runsOnTheBootLineOfThisBuild() {
		assertThat(SpringBootVersion.getVersion()).isEqualTo(System.getProperty("expected.boot.version"));
		assertThat(this.registry.getClass().getName()).isEqualTo("io.github.userlock.redis.RedisLockRegistry");
	}

	@Test
	void theAnnotatedMethodHoldsALockInRedis() {
		assertThat(this.wallet.lockKeyInRedis("dora")).isTrue();
	}

	@Test
	void concurrentCallsForOneUserRunOneAtATimeAndLoseNoUpdate() throws Exception {
		int threads = 8;
		int calls = 25;
		ExecutorService pool = Executors.newFixedThreadPool(threads);
		try {
			CountDownLatch start = new CountDownLatch(1);
			List<Future<?>> results = new ArrayList<>();
			for (int t = 0; t < threads; t++) {
				results.add(pool.submit(() -> {
					start.await();
					for (int i = 0; i < calls; i++) {
						this.wallet.add("alice", 1);
					}
					return null;
				}));
			}
			start.countDown();
			for (Future<?> result : results) {
				result.get(60, TimeUnit.SECONDS);
			}
		}
		finally {
			pool.shutdownNow();
		}
		assertThat(this.wallet.balance("alice")).isEqualTo(threads * calls);
		assertThat(this.wallet.mostInside()).isEqualTo(1);
	}

}
