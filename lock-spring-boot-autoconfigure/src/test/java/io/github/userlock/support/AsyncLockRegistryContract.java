package io.github.userlock.support;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockHandle;
import io.github.userlock.LockRequest;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * The contract of the asynchronous API ({@code acquireAsync}, {@code tryAcquireAsync},
 * {@code releaseAsync}), part of {@link LockRegistryContractTests} and so run against
 * every registry.
 */
public interface AsyncLockRegistryContract {

	AbstractLockRegistry registry();

	AbstractLockRegistry otherInstance();

	private static LockRequest request(String key, Duration wait) {
		return LockRequest.of(key).withWaitTime(wait);
	}

	@Test
	default void asyncAcquireAndReleaseLeaveTheKeyFreeEverywhere() throws Exception {
		LockHandle handle = registry().acquireAsync(request("async-a", Duration.ofSeconds(1)))
			.get(10, TimeUnit.SECONDS);
		assertThat(handle.isHeld()).isTrue();
		assertThat(otherInstance().tryAcquireAsync(request("async-a", Duration.ZERO)).get(10, TimeUnit.SECONDS))
			.isEmpty();
		handle.releaseAsync().get(10, TimeUnit.SECONDS);
		assertThat(handle.isHeld()).isFalse();
		// once the release future completed, the key is free for every instance
		Optional<LockHandle> again = otherInstance().tryAcquireAsync(request("async-a", Duration.ZERO))
			.get(10, TimeUnit.SECONDS);
		assertThat(again).isPresent();
		assertThat(again.get().fencingToken()).isGreaterThan(handle.fencingToken());
		again.get().releaseAsync().get(10, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(5)).until(() -> registry().localKeyCount() == 0);
	}

	@Test
	default void asyncWaiterGetsTheLockWhenTheBlockingHolderReleases() throws Exception {
		LockHandle holder = registry().acquire("async-b", Duration.ofSeconds(1));
		CompletableFuture<LockHandle> here = registry().acquireAsync(request("async-b", Duration.ofSeconds(20)));
		CompletableFuture<LockHandle> there = otherInstance().acquireAsync(request("async-b", Duration.ofSeconds(20)));
		assertThat(here).isNotDone();
		assertThat(there).isNotDone();
		holder.release();
		CompletableFuture<Object> first = CompletableFuture.anyOf(here, there);
		LockHandle winner = (LockHandle) first.get(20, TimeUnit.SECONDS);
		CompletableFuture<LockHandle> loser = (winner == here.getNow(null)) ? there : here;
		assertThat(loser).isNotDone();
		winner.releaseAsync().get(10, TimeUnit.SECONDS);
		loser.get(20, TimeUnit.SECONDS).releaseAsync().get(10, TimeUnit.SECONDS);
	}

	@Test
	default void asyncConflictAfterTheWaitTime() throws Exception {
		try (LockHandle holder = registry().acquire("async-c", Duration.ofSeconds(1))) {
			long start = System.nanoTime();
			CompletableFuture<LockHandle> waiting = otherInstance()
				.acquireAsync(request("async-c", Duration.ofMillis(300)));
			assertThatExceptionOfType(ExecutionException.class).isThrownBy(() -> waiting.get(10, TimeUnit.SECONDS))
				.withCauseInstanceOf(LockConflictException.class)
				.withMessageContaining("'async-c'");
			assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(299));
			assertThat(registry().tryAcquireAsync(request("async-c", Duration.ofMillis(100))).get(10, TimeUnit.SECONDS))
				.isEmpty();
		}
	}

	@Test
	default void anAsyncAcquisitionIsNotReEnteredByTheHoldingThread() throws Exception {
		try (LockHandle holder = registry().acquire("async-d", Duration.ofSeconds(1))) {
			// same thread, same instance: it waits like anyone else's
			assertThat(registry().tryAcquireAsync(request("async-d", Duration.ZERO)).get(10, TimeUnit.SECONDS))
				.isEmpty();
		}
		LockHandle async = registry().acquireAsync(request("async-d", Duration.ZERO)).get(10, TimeUnit.SECONDS);
		// and the thread that asked for an async lock does not re-enter it
		assertThat(registry().tryAcquire(request("async-d", Duration.ZERO))).isEmpty();
		async.releaseAsync().get(10, TimeUnit.SECONDS);
	}

	@Test
	default void cancellingAWaitingAcquisitionLeavesTheKeyFree() throws Exception {
		LockHandle holder = registry().acquire("async-e", Duration.ofSeconds(1));
		CompletableFuture<LockHandle> local = registry().acquireAsync(request("async-e", Duration.ofSeconds(30)));
		CompletableFuture<LockHandle> remote = otherInstance().acquireAsync(request("async-e", Duration.ofSeconds(30)));
		assertThat(local.cancel(false)).isTrue();
		assertThat(remote.cancel(false)).isTrue();
		holder.release();
		// a cancelled call whose attempt was in flight keeps its instance's turn until
		// that answer arrives (a no-wait call there may share it, as with any call in
		// flight); then nothing is left of either
		await().atMost(Duration.ofSeconds(5))
			.until(() -> registry().localKeyCount() == 0 && otherInstance().localKeyCount() == 0);
		// nobody holds it: a no-wait try from each instance gets it
		LockHandle here = registry().tryAcquire(request("async-e", Duration.ZERO)).orElseThrow();
		here.release();
		LockHandle there = otherInstance().tryAcquire(request("async-e", Duration.ZERO)).orElseThrow();
		there.release();
	}

	@Test
	default void cancellingAtAnyMomentNeverLeavesALockHeld() throws Exception {
		List<CompletableFuture<LockHandle>> calls = new ArrayList<>();
		AtomicInteger granted = new AtomicInteger();
		for (int i = 0; i < 200; i++) {
			AbstractLockRegistry instance = (i % 2 == 0) ? registry() : otherInstance();
			CompletableFuture<LockHandle> call = instance.acquireAsync(request("async-f", Duration.ofSeconds(30)));
			call.thenAccept((handle) -> {
				granted.incrementAndGet();
				handle.releaseAsync();
			});
			calls.add(call);
			if (ThreadLocalRandom.current().nextBoolean()) {
				call.cancel(false);
			}
		}
		for (CompletableFuture<LockHandle> call : calls) {
			try {
				call.get(30, TimeUnit.SECONDS);
			}
			catch (CancellationException | ExecutionException ex) {
				assertThat(call.isCancelled()).as("only cancelled calls fail").isTrue();
			}
		}
		assertThat(granted.get()).isGreaterThan(0);
		await().atMost(Duration.ofSeconds(20))
			.until(() -> registry().localKeyCount() == 0 && otherInstance().localKeyCount() == 0);
		LockHandle free = otherInstance().tryAcquire(request("async-f", Duration.ZERO)).orElseThrow();
		free.release();
	}

	@Test
	default void tenThousandAsyncWaitersHoldNoThreadEach() throws Exception {
		int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
		LockHandle holder = registry().acquire("async-g", Duration.ofSeconds(1));
		AtomicInteger inside = new AtomicInteger();
		AtomicInteger overlaps = new AtomicInteger();
		AtomicInteger done = new AtomicInteger();
		List<CompletableFuture<Void>> calls = new ArrayList<>(10_000);
		for (int i = 0; i < 10_000; i++) {
			calls.add(registry().acquireAsync(request("async-g", Duration.ofSeconds(120))).thenCompose((handle) -> {
				if (inside.incrementAndGet() != 1) {
					overlaps.incrementAndGet();
				}
				done.incrementAndGet();
				inside.decrementAndGet();
				return handle.releaseAsync();
			}));
		}
		assertThat(registry().localKeyCount()).isEqualTo(1);
		assertThat(ManagementFactory.getThreadMXBean().getThreadCount()).as("threads while 10,000 callers wait")
			.isLessThan(threadsBefore + 20);
		holder.release();
		CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
		assertThat(done).hasValue(10_000);
		assertThat(overlaps).hasValue(0);
		await().atMost(Duration.ofSeconds(5)).until(() -> registry().localKeyCount() == 0);
	}

	@Test
	default void asyncAndBlockingCallersExcludeEachOtherAcrossInstances() throws Exception {
		AtomicInteger inside = new AtomicInteger();
		AtomicInteger overlaps = new AtomicInteger();
		int[] counter = { 0 };
		List<CompletableFuture<Void>> calls = new ArrayList<>();
		for (int i = 0; i < 300; i++) {
			AbstractLockRegistry instance = (i % 2 == 0) ? registry() : otherInstance();
			calls.add(instance.acquireAsync(request("async-h", Duration.ofSeconds(60))).thenComposeAsync((handle) -> {
				if (inside.incrementAndGet() != 1) {
					overlaps.incrementAndGet();
				}
				int read = counter[0];
				Thread.onSpinWait();
				counter[0] = read + 1;
				inside.decrementAndGet();
				return handle.releaseAsync();
			}));
		}
		for (int i = 0; i < 30; i++) {
			AbstractLockRegistry instance = (i % 2 == 0) ? otherInstance() : registry();
			calls.add(CompletableFuture.runAsync(() -> {
				try (LockHandle handle = instance.acquire("async-h", Duration.ofSeconds(60))) {
					if (inside.incrementAndGet() != 1) {
						overlaps.incrementAndGet();
					}
					counter[0]++;
					inside.decrementAndGet();
				}
			}, (runnable) -> new Thread(runnable, "contract-blocking").start()));
		}
		CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
		assertThat(overlaps).hasValue(0);
		synchronized (counter) {
			assertThat(counter[0]).isEqualTo(330);
		}
	}

}
