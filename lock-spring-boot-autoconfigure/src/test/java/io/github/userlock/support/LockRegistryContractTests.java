package io.github.userlock.support;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockHandle;
import io.github.userlock.LockInterruptedException;
import io.github.userlock.LockRegistry;
import io.github.userlock.LockRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The contract every {@link LockRegistry} keeps, run against each implementation (the way
 * ShedLock runs one suite against all its providers). {@link #registry()} and
 * {@link #otherInstance()} may be the same object (one JVM) or two registries on one
 * store (two application instances).
 */
@Timeout(60)
public abstract class LockRegistryContractTests implements AsyncLockRegistryContract {

	/**
	 * A new thread per task: a reused pool thread would re-enter a lock an earlier task
	 * still holds.
	 */
	private final List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();

	private final java.util.concurrent.Executor executor = (runnable) -> {
		Thread thread = new Thread(runnable, "contract-test");
		thread.setDaemon(true);
		this.threads.add(thread);
		thread.start();
	};

	/** The registry under test. */
	public abstract AbstractLockRegistry registry();

	/** A registry acting as another instance of the application, on the same store. */
	public abstract AbstractLockRegistry otherInstance();

	@AfterEach
	void stopThreads() throws InterruptedException {
		for (Thread thread : this.threads) {
			thread.interrupt();
			thread.join(10_000);
			assertThat(thread.isAlive()).as("test thread still running").isFalse();
		}
	}

	/** Runs {@code task} on another thread and waits for its result. */
	/**
	 * Takes {@code key} from the other instance, without waiting, after it was released
	 * here: once {@code release()} returned the key is free everywhere.
	 */
	protected Optional<LockHandle> takeOnOtherInstance(String key) throws Exception {
		return onOtherThread(() -> otherInstance().tryAcquire(key));
	}

	protected <T> T onOtherThread(java.util.concurrent.Callable<T> task) throws Exception {
		return startOnOtherThread(task).get(20, TimeUnit.SECONDS);
	}

	protected <T> Future<T> startOnOtherThread(java.util.concurrent.Callable<T> task) {
		java.util.concurrent.FutureTask<T> future = new java.util.concurrent.FutureTask<>(task);
		this.executor.execute(future);
		return future;
	}

	@Test
	void acquiresAndReleases() throws Exception {
		LockHandle handle = registry().acquire("alice", Duration.ofSeconds(1));
		assertThat(handle.key()).isEqualTo("alice");
		assertThat(handle.isHeld()).isTrue();
		handle.release();
		assertThat(handle.isHeld()).isFalse();
		Optional<LockHandle> again = takeOnOtherInstance("alice");
		assertThat(again).isPresent();
		again.get().release();
	}

	@Test
	void tryAcquireOnHeldKeyReturnsEmptyAtOnce() throws Exception {
		try (LockHandle handle = registry().acquire("bob", Duration.ofSeconds(1))) {
			long start = System.nanoTime();
			Optional<LockHandle> other = onOtherThread(() -> otherInstance().tryAcquire("bob"));
			assertThat(other).isEmpty();
			assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
			Optional<LockHandle> sameInstance = onOtherThread(() -> registry().tryAcquire("bob"));
			assertThat(sameInstance).isEmpty();
		}
	}

	@Test
	void conflictAfterWaitTimeNamesKeyAndTimeWaited() throws Exception {
		try (LockHandle handle = registry().acquire("carol", Duration.ofSeconds(1))) {
			Future<Throwable> failure = startOnOtherThread(() -> {
				try {
					otherInstance().acquire("carol", Duration.ofMillis(300)).release();
					return null;
				}
				catch (LockConflictException ex) {
					return ex;
				}
			});
			Throwable ex = failure.get(10, TimeUnit.SECONDS);
			assertThat(ex).isInstanceOf(LockConflictException.class).hasMessageContaining("'carol'");
			assertThat(((LockConflictException) ex).getKey()).isEqualTo("carol");
			assertThat(((LockConflictException) ex).getWaited()).isGreaterThanOrEqualTo(Duration.ofMillis(299));
		}
	}

	@Test
	void waiterAcquiresAfterRelease() throws Exception {
		LockHandle handle = registry().acquire("dave", Duration.ofSeconds(1));
		CountDownLatch started = new CountDownLatch(1);
		Future<Long> waiter = startOnOtherThread(() -> {
			started.countDown();
			try (LockHandle second = otherInstance().acquire("dave", Duration.ofSeconds(10))) {
				return second.fencingToken();
			}
		});
		assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
		long firstToken = handle.fencingToken();
		handle.release();
		assertThat(waiter.get(10, TimeUnit.SECONDS)).isGreaterThan(firstToken);
	}

	@Test
	void reentersOnSameThreadAndNeedsAsManyReleases() throws Exception {
		LockHandle outer = registry().acquire("erin", Duration.ofSeconds(1));
		LockHandle inner = registry().acquire("erin", Duration.ofSeconds(1));
		assertThat(inner.fencingToken()).isEqualTo(outer.fencingToken());
		inner.release();
		assertThat(outer.isHeld()).isTrue();
		assertThat(onOtherThread(() -> otherInstance().tryAcquire("erin"))).isEmpty();
		outer.release();
		Optional<LockHandle> after = takeOnOtherInstance("erin");
		assertThat(after).isPresent();
		after.get().release();
	}

	@Test
	void aDetachedHandleIsNotReEnteredByItsThread() throws Exception {
		LockHandle handle = registry().acquire("fay", Duration.ofSeconds(1));
		handle.detachFromThread();
		assertThat(handle.isHeld()).isTrue();
		assertThat(registry().tryAcquire("fay")).isEmpty();
		onOtherThread(() -> {
			handle.release();
			return null;
		});
		Optional<LockHandle> again = registry().tryAcquire("fay");
		assertThat(again).isPresent();
		again.get().release();
		assertThat(registry().localKeyCount()).isZero();
	}

	@Test
	void releasesFromAnotherThread() throws Exception {
		LockHandle handle = registry().acquire("frank", Duration.ofSeconds(1));
		onOtherThread(() -> {
			handle.release();
			return null;
		});
		Optional<LockHandle> again = takeOnOtherInstance("frank");
		assertThat(again).isPresent();
		again.get().release();
		assertThat(registry().localKeyCount()).isZero();
	}

	@Test
	void releasingTwiceIsANoOp() throws Exception {
		LockHandle handle = registry().acquire("gina", Duration.ofSeconds(1));
		handle.release();
		LockHandle next = onOtherThread(() -> otherInstance().acquire("gina", Duration.ofSeconds(1)));
		handle.release();
		assertThat(next.isHeld()).isTrue();
		assertThat(onOtherThread(() -> registry().tryAcquire("gina"))).isEmpty();
		next.release();
	}

	@Test
	void fencingTokensStrictlyIncrease() throws Exception {
		long previous = 0;
		for (int i = 0; i < 50; i++) {
			LockRegistry registry = (i % 2 == 0) ? registry() : otherInstance();
			LockHandle handle = onOtherThread(() -> registry.acquire("henry", Duration.ofSeconds(1)));
			assertThat(handle.fencingToken()).isGreaterThan(previous);
			previous = handle.fencingToken();
			handle.release();
		}
	}

	@Test
	void holdAtLeastKeepsTheKeyLockedAfterRelease() throws Exception {
		LockHandle handle = registry().acquire("iris", Duration.ofSeconds(1));
		handle.release(Duration.ofMillis(800));
		assertThat(handle.isHeld()).isFalse();
		assertThat(onOtherThread(() -> otherInstance().tryAcquire("iris"))).isEmpty();
		AtomicReference<LockHandle> later = new AtomicReference<>();
		await().atMost(Duration.ofSeconds(5))
			.until(() -> onOtherThread(() -> otherInstance().tryAcquire("iris")).map((h) -> {
				later.set(h);
				return true;
			}).orElse(false));
		assertThat(later.get().fencingToken()).isGreaterThan(handle.fencingToken());
		later.get().release();
	}

	@Test
	void namespacesSeparateLocksUnambiguously() throws Exception {
		try (LockHandle plain = registry().acquire("orders:alice", Duration.ofSeconds(1))) {
			Optional<LockHandle> namespaced = onOtherThread(() -> otherInstance()
				.tryAcquire(LockRequest.of("alice").withNamespace("orders").withWaitTime(Duration.ZERO)));
			assertThat(namespaced).isPresent();
			Optional<LockHandle> sameNamespaced = onOtherThread(() -> otherInstance()
				.tryAcquire(LockRequest.of("alice").withNamespace("orders").withWaitTime(Duration.ZERO)));
			assertThat(sameNamespaced).isEmpty();
			namespaced.get().release();
		}
	}

	@Test
	void unicodeAndHostileKeysAreDistinctLocks() throws Exception {
		List<String> keys = List.of("ユーザー", "用户", "пользователь", "🙂", "*", "?", "[a]", "{tag}", "a{b}c", "tab\there",
				"nul\0byte", "line\nbreak", "user-lock:alice", "alice ", " alice");
		List<LockHandle> handles = new ArrayList<>();
		for (String key : keys) {
			handles.add(registry().acquire(key, Duration.ofSeconds(1)));
		}
		for (String key : keys) {
			assertThat(onOtherThread(() -> otherInstance().tryAcquire(key))).as(key).isEmpty();
		}
		Optional<LockHandle> alice = takeOnOtherInstance("alice");
		assertThat(alice).isPresent();
		alice.get().release();
		handles.forEach(LockHandle::release);
		assertThat(registry().localKeyCount()).isZero();
	}

	@Test
	void rejectsBadKeysBeforeTouchingTheStore() {
		AbstractLockRegistry registry = registry();
		assertThatIllegalArgumentException().isThrownBy(() -> registry.acquire(null, Duration.ZERO))
			.withMessageContaining("must not be null");
		assertThatIllegalArgumentException().isThrownBy(() -> registry.acquire("  ", Duration.ZERO))
			.withMessageContaining("must not be blank");
		assertThatIllegalArgumentException().isThrownBy(() -> registry.tryAcquire(""))
			.withMessageContaining("must not be blank");
		String tooLong = "x".repeat(registry.getMaxKeyBytes() + 1);
		assertThatIllegalArgumentException().isThrownBy(() -> registry.acquire(tooLong, Duration.ZERO))
			.withMessageContaining("longer than the maximum of " + registry.getMaxKeyBytes());
		String multiByte = "é".repeat(registry.getMaxKeyBytes() / 2 + 1);
		assertThatIllegalArgumentException().isThrownBy(() -> registry.acquire(multiByte, Duration.ZERO))
			.withMessageContaining("bytes in UTF-8");
		assertThatIllegalArgumentException().isThrownBy(() -> registry.acquire("a\uD800b", Duration.ZERO))
			.withMessageContaining("unpaired surrogate");
		assertThatIllegalArgumentException().isThrownBy(() -> registry.acquire("x".repeat(1 << 20), Duration.ZERO))
			.withMessageContaining("longer than the maximum");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> registry.acquire(LockRequest.of("a").withNamespace("a:b")))
			.withMessageContaining("namespace 'a:b'");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> registry.acquire(LockRequest.of("a").withWaitTime(Duration.ofSeconds(-1))))
			.withMessageContaining("wait time");
		assertThat(registry.localKeyCount()).isZero();
	}

	@Test
	void interruptingAWaiterEndsTheWaitCleanly() throws Exception {
		LockHandle holder = registry().acquire("jack", Duration.ofSeconds(1));
		CountDownLatch started = new CountDownLatch(1);
		AtomicReference<Thread> waiterThread = new AtomicReference<>();
		Future<Throwable> waiter = startOnOtherThread(() -> {
			waiterThread.set(Thread.currentThread());
			started.countDown();
			try {
				otherInstance().acquire("jack", Duration.ofSeconds(30)).release();
				return null;
			}
			catch (LockInterruptedException ex) {
				return Thread.currentThread().isInterrupted() ? ex : new AssertionError("interrupt flag not set");
			}
		});
		assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
		await().atMost(Duration.ofSeconds(5))
			.until(() -> waiterThread.get().getState() == Thread.State.TIMED_WAITING
					|| waiterThread.get().getState() == Thread.State.WAITING);
		waiterThread.get().interrupt();
		assertThat(waiter.get(10, TimeUnit.SECONDS)).isInstanceOf(LockInterruptedException.class)
			.hasMessageContaining("'jack'");
		holder.release();
		Optional<LockHandle> after = takeOnOtherInstance("jack");
		assertThat(after).isPresent();
		after.get().release();
		assertThat(otherInstance().localKeyCount()).isZero();
	}

	@Test
	void excludesConcurrentHoldersAcrossThreadsAndInstances() throws Exception {
		int keys = 5;
		AtomicInteger[] holders = new AtomicInteger[keys];
		int[] counters = new int[keys];
		for (int i = 0; i < keys; i++) {
			holders[i] = new AtomicInteger();
		}
		AtomicInteger overlaps = new AtomicInteger();
		int threads = 8;
		int perThread = 200;
		List<CompletableFuture<Void>> all = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			LockRegistry registry = (t % 2 == 0) ? registry() : otherInstance();
			int seed = t;
			all.add(CompletableFuture.runAsync(() -> {
				for (int i = 0; i < perThread; i++) {
					int k = (seed + i) % keys;
					try (LockHandle handle = registry.acquire("mutex-" + k, Duration.ofSeconds(20))) {
						if (holders[k].incrementAndGet() != 1) {
							overlaps.incrementAndGet();
						}
						int read = counters[k];
						Thread.onSpinWait();
						counters[k] = read + 1;
						holders[k].decrementAndGet();
					}
				}
			}, this.executor));
		}
		CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(50, TimeUnit.SECONDS);
		assertThat(overlaps).hasValue(0);
		int total = 0;
		for (int counter : counters) {
			total += counter;
		}
		assertThat(total).isEqualTo(threads * perThread);
		assertThat(registry().localKeyCount()).isZero();
		assertThat(otherInstance().localKeyCount()).isZero();
	}

	@Test
	void callWithLockReleasesWhenTheActionThrows() throws Exception {
		assertThatThrownBy(() -> registry().callWithLock("kate", Duration.ofSeconds(1), () -> {
			throw new IllegalStateException("boom");
		})).isInstanceOf(IllegalStateException.class).hasMessage("boom");
		Optional<LockHandle> after = takeOnOtherInstance("kate");
		assertThat(after).isPresent();
		after.get().release();
		assertThat(registry().callWithLock("kate", Duration.ofSeconds(1), () -> 42)).isEqualTo(42);
	}

	@Test
	void aWaitOrHoldOfAnyLengthMeansForeverWithoutOverflow() throws Exception {
		Duration forever = Duration.ofSeconds(Long.MAX_VALUE);
		LockHandle handle = registry().acquire(LockRequest.of("forever").withWaitTime(forever));
		CountDownLatch started = new CountDownLatch(1);
		Future<LockHandle> waiter = startOnOtherThread(() -> {
			started.countDown();
			return otherInstance().acquire(LockRequest.of("forever").withWaitTime(forever));
		});
		assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
		// still waiting, not timed out at once by an overflowed deadline
		await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> !waiter.isDone());
		handle.release();
		LockHandle next = waiter.get(10, TimeUnit.SECONDS);
		// a hold of a thousand years keeps the key, it does not expire at once
		next.release(Duration.ofDays(365L * 1000));
		assertThat(onOtherThread(() -> registry().tryAcquire("forever"))).isEmpty();
	}

}
