package io.github.userlock.reliability;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import io.github.userlock.LockHandle;
import io.github.userlock.LockListener;
import io.github.userlock.LockRequest;
import io.github.userlock.redis.RedisLockRegistry;
import io.github.userlock.test.FaultProxy;
import io.github.userlock.test.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * When the network to Redis stalls, a holder must be told it lost its lock (WARN,
 * listener, handle callback) no later than its lease runs out, that is before another
 * instance can take the lock over. This is the single-process reproduction of what the
 * network-stall case of {@link MultiProcessLockTests} measures.
 */
@Timeout(60)
class LossReportTimingTests {

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension();

	@Test
	void holderIsToldOfTheLossBeforeASuccessorTakesTheLockWhenRenewalsHang() {
		FaultProxy proxy = redis.newProxy();
		Duration lease = Duration.ofMillis(2000);
		try (RedisLockRegistry stalled = RedisLockRegistry.builder(redis.newClient(proxy))
			.commandTimeout(Duration.ofMillis(500))
			.defaultLeaseTime(lease)
			.build();
				RedisLockRegistry successor = RedisLockRegistry.builder(redis.newClient())
					.defaultLeaseTime(lease)
					.build()) {
			AtomicLong listenerAt = new AtomicLong();
			AtomicLong callbackAt = new AtomicLong();
			stalled.addListener(new LockListener() {
				@Override
				public void lockLost(String key, long fencingToken) {
					listenerAt.compareAndSet(0, System.nanoTime());
				}
			});
			// connect first (a cold JVM may take longer than the command timeout)
			await().atMost(Duration.ofSeconds(20))
				.ignoreExceptions()
				.until(() -> stalled.tryAcquire("warm-up").map((h) -> {
					h.release();
					return true;
				}).orElse(false));
			LockHandle held = stalled.acquire(LockRequest.of("order-1").withWaitTime(Duration.ofSeconds(1)));
			held.onLost((h) -> callbackAt.compareAndSet(0, System.nanoTime()));
			proxy.blackhole();
			LockHandle next = successor.acquire(LockRequest.of("order-1").withWaitTime(Duration.ofSeconds(10)));
			long takenOverAt = System.nanoTime();
			boolean heldWhenTakenOver = held.isHeld();
			long listenerCalledAt = listenerAt.get();
			long callbackCalledAt = callbackAt.get();
			// how late each report came after the takeover; not reported yet counts as
			// late
			await().atMost(Duration.ofSeconds(5)).until(() -> listenerAt.get() != 0 && callbackAt.get() != 0);
			long listenerLate = listenerAt.get() - takenOverAt;
			long callbackLate = callbackAt.get() - takenOverAt;
			System.out.println("RELIABILITY case=\"loss report timing\" heldWhenTakenOver=" + heldWhenTakenOver
					+ " listenerLateMs=" + listenerLate / 1_000_000.0 + " callbackLateMs="
					+ callbackLate / 1_000_000.0);
			assertThat(next.fencingToken()).isGreaterThan(held.fencingToken());
			assertThat(heldWhenTakenOver).as("handle still says held when another instance took the lock").isFalse();
			assertThat(listenerCalledAt).as("LockListener.lockLost called by the time of the takeover").isNotZero();
			assertThat(callbackCalledAt).as("LockHandle.onLost callback run by the time of the takeover").isNotZero();
			assertThat(listenerLate).as("ns from the takeover to LockListener.lockLost").isLessThanOrEqualTo(0);
			assertThat(callbackLate).as("ns from the takeover to the onLost callback").isLessThanOrEqualTo(0);
			next.release();
			proxy.pass();
		}
	}

}
