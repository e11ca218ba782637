package io.github.userlock.aop;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockHandle;
import io.github.userlock.LockListener;
import io.github.userlock.LockRegistry;
import io.github.userlock.LockRequest;
import io.github.userlock.LockUnavailableException;
import io.github.userlock.UserLock;
import io.github.userlock.autoconfigure.LockAutoConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ContextConsumer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.AliasFor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

/**
 * The {@code @UserLock} advice on the in-memory registry, wired by the
 * auto-configuration: exclusion, waiting, multi-key order, asynchronous results,
 * re-entry, hold-at-least and key validation.
 */
@Timeout(30)
class UserLockInterceptorTests {

	private final ExecutorService executor = Executors.newCachedThreadPool();

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class))
		.withPropertyValues("test.wait=1500ms")
		.withUserConfiguration(Config.class);

	@AfterEach
	void shutdown() {
		this.executor.shutdownNow();
	}

	private void run(ContextConsumer<AssertableApplicationContext> test) {
		this.runner.run((context) -> {
			assertThat(context).hasNotFailed();
			test.accept(context);
		});
	}

	/** Whether a thread other than the caller finds {@code key} locked. */
	private boolean lockedElsewhere(RecordingLockRegistry registry, String key) throws Exception {
		return this.executor.submit(() -> {
			Optional<LockHandle> handle = registry.delegate.tryAcquire(key);
			handle.ifPresent(LockHandle::release);
			return handle.isEmpty();
		}).get(10, TimeUnit.SECONDS);
	}

	@Test
	void secondCallForSameUserConflictsWhileFirstRuns() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			Future<String> first = this.executor.submit(() -> service.hold("alice", state.entered, state.proceed));
			assertThat(state.entered.await(10, TimeUnit.SECONDS)).isTrue();
			assertThatExceptionOfType(LockConflictException.class).isThrownBy(() -> service.noWait("alice"))
				.satisfies((ex) -> assertThat(ex.getKey()).isEqualTo("alice"));
			assertThat(state.noWaitRuns).hasValue(0);
			state.proceed.countDown();
			assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("held alice");
			assertThat(service.noWait("alice")).isEqualTo("ran alice");
		});
	}

	@Test
	void waitingCallRunsAfterHolderReleases() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			Future<String> first = this.executor.submit(() -> service.hold("bob", state.entered, state.proceed));
			assertThat(state.entered.await(10, TimeUnit.SECONDS)).isTrue();
			Future<String> second = this.executor.submit(() -> service.longWait("bob"));
			await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> !second.isDone());
			state.proceed.countDown();
			assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo("waited bob");
			assertThat(first.get()).isEqualTo("held bob");
		});
	}

	@Test
	void differentUsersRunInParallel() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			CountDownLatch bothInside = new CountDownLatch(2);
			CountDownLatch release = new CountDownLatch(1);
			Future<String> a = this.executor.submit(() -> service.hold("u1", bothInside, release));
			Future<String> b = this.executor.submit(() -> service.hold("u2", bothInside, release));
			// only possible when both are inside their locked method at the same time
			assertThat(bothInside.await(10, TimeUnit.SECONDS)).isTrue();
			release.countDown();
			assertThat(a.get(10, TimeUnit.SECONDS)).isEqualTo("held u1");
			assertThat(b.get(10, TimeUnit.SECONDS)).isEqualTo("held u2");
		});
	}

	@Test
	void releasesLockWhenMethodThrows() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			RecordingLockRegistry registry = context.getBean(RecordingLockRegistry.class);
			assertThatExceptionOfType(IllegalStateException.class).isThrownBy(() -> service.fail("carol"))
				.withMessage("boom");
			assertThat(lockedElsewhere(registry, "carol")).isFalse();
		});
	}

	@Test
	void severalKeysAreAcquiredInSortedOrderWhateverTheArgumentOrder() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			RecordingLockRegistry registry = context.getBean(RecordingLockRegistry.class);
			service.transfer("zed", "amy");
			service.transfer("amy", "zed");
			assertThat(registry.keys()).containsExactly("amy", "zed", "amy", "zed");
		});
	}

	@Test
	void transfersInOppositeDirectionsDoNotDeadlock() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			int rounds = 300;
			CountDownLatch start = new CountDownLatch(1);
			Future<?> forward = this.executor.submit(() -> {
				start.await();
				for (int i = 0; i < rounds; i++) {
					service.transfer("acc-1", "acc-2");
				}
				return null;
			});
			Future<?> backward = this.executor.submit(() -> {
				start.await();
				for (int i = 0; i < rounds; i++) {
					service.transfer("acc-2", "acc-1");
				}
				return null;
			});
			start.countDown();
			forward.get(20, TimeUnit.SECONDS);
			backward.get(20, TimeUnit.SECONDS);
			assertThat(state.transfers).hasValue(2 * rounds);
			assertThat(state.maxConcurrentTransfers).hasValue(1);
		});
	}

	@Test
	void collectionAndArrayValuesLockEveryElementOnce() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			RecordingLockRegistry registry = context.getBean(RecordingLockRegistry.class);
			service.batch(List.of("c", "a", "b", "a"));
			assertThat(registry.keys()).containsExactly("a", "b", "c");
			registry.requests.clear();
			service.batchArray(new String[] { "y", "x" });
			assertThat(registry.keys()).containsExactly("x", "y");
		});
	}

	@Test
	void nullKeyIsRejectedBeforeAnyLockCall() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			RecordingLockRegistry registry = context.getBean(RecordingLockRegistry.class);
			assertThatIllegalArgumentException().isThrownBy(() -> service.noWait(null))
				.withMessageContaining("'#uid'")
				.withMessageContaining("Service.noWait(String)")
				.withMessageContaining("null");
			assertThat(registry.requests).isEmpty();
			assertThat(state.noWaitRuns).hasValue(0);
		});
	}

	@Test
	void blankKeyIsRejectedBeforeAnyLockCall() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			RecordingLockRegistry registry = context.getBean(RecordingLockRegistry.class);
			assertThatIllegalArgumentException().isThrownBy(() -> service.noWait("  "))
				.withMessageContaining("'#uid'")
				.withMessageContaining("blank");
			assertThatIllegalArgumentException().isThrownBy(() -> service.batch(List.of("a", " ")))
				.withMessageContaining("'#ids'")
				.withMessageContaining("blank element");
			assertThatIllegalArgumentException().isThrownBy(() -> service.batch(List.of()))
				.withMessageContaining("empty collection");
			assertThatIllegalArgumentException().isThrownBy(() -> service.transfer("a", null))
				.withMessageContaining("'#to'");
			assertThat(registry.requests).isEmpty();
		});
	}

	@Test
	void overLongKeyGetsTheEngineErrorBeforeAnyLockCall() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			RecordingLockRegistry registry = context.getBean(RecordingLockRegistry.class);
			// the recording registry is no AbstractLockRegistry, so the key reaches the
			// engine's own check
			assertThatIllegalArgumentException().isThrownBy(() -> service.noWait("k".repeat(600)))
				.withMessageContaining("longer than the maximum of 512");
			assertThat(state.noWaitRuns).hasValue(0);
			assertThat(registry.delegate.localKeyCount()).isZero();
		});
	}

	@Test
	void expressionsSeePositionsRootAndBeans() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			RecordingLockRegistry registry = context.getBean(RecordingLockRegistry.class);
			service.expressions("u7", 42);
			assertThat(registry.keys()).containsExactly("42", "expressions:u7", "prefixed-u7", "u7");
		});
	}

	@Test
	void nameWaitAndLeaseGoIntoTheRequest() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			RecordingLockRegistry registry = context.getBean(RecordingLockRegistry.class);
			service.configured("dave");
			assertThat(registry.requests)
				.containsExactly(new LockRequest("dave", "orders", Duration.ofMillis(1500), Duration.ofMinutes(1)));
			registry.requests.clear();
			service.noWait("dave");
			assertThat(registry.requests).containsExactly(new LockRequest("dave", "", Duration.ZERO, null));
		});
	}

	@Test
	void interfaceAndMetaAnnotatedMethodsAreLocked() {
		run((context) -> {
			Accounts accounts = context.getBean(Accounts.class);
			RecordingLockRegistry registry = context.getBean(RecordingLockRegistry.class);
			accounts.credit("erin");
			accounts.debit("frank");
			assertThat(registry.requests).containsExactly(LockRequest.of("erin"),
					new LockRequest("frank", "meta", Duration.ZERO, null));
		});
	}

	@Test
	void completableFutureHoldsTheLockUntilItCompletes() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			RecordingLockRegistry registry = context.getBean(RecordingLockRegistry.class);
			CompletableFuture<String> work = new CompletableFuture<>();
			CompletableFuture<String> result = service.async("gina", work);
			assertThat(result).isNotDone();
			assertThat(lockedElsewhere(registry, "gina")).isTrue();
			work.complete("done");
			assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo("done");
			// the returned stage completes after the release
			assertThat(lockedElsewhere(registry, "gina")).isFalse();
		});
	}

	@Test
	void aSecondAsyncCallFromTheSameThreadWaitsInsteadOfReEntering() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			CompletableFuture<String> work = new CompletableFuture<>();
			CompletableFuture<String> first = service.async("ivy", work);
			assertThat(first).isNotDone();
			// same thread, same user, first still running: no re-entry, a conflict after
			// the wait
			assertThatExceptionOfType(LockConflictException.class)
				.isThrownBy(() -> service.asyncNoWait("ivy", CompletableFuture.completedFuture("second")));
			work.complete("done");
			assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("done");
			assertThat(service.asyncNoWait("ivy", CompletableFuture.completedFuture("third")).get(10, TimeUnit.SECONDS))
				.isEqualTo("third");
		});
	}

	@Test
	void completableFutureReleasesTheLockWhenItFails() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			RecordingLockRegistry registry = context.getBean(RecordingLockRegistry.class);
			CompletableFuture<String> work = new CompletableFuture<>();
			CompletableFuture<String> result = service.async("hank", work);
			assertThat(lockedElsewhere(registry, "hank")).isTrue();
			work.completeExceptionally(new IllegalStateException("failed"));
			assertThatExceptionOfType(ExecutionException.class).isThrownBy(() -> result.get(10, TimeUnit.SECONDS))
				.withRootCauseInstanceOf(IllegalStateException.class);
			assertThat(lockedElsewhere(registry, "hank")).isFalse();
		});
	}

	@Test
	void monoAcquiresOnSubscriptionAndHoldsUntilItCompletes() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			RecordingLockRegistry registry = context.getBean(RecordingLockRegistry.class);
			Sinks.One<String> sink = Sinks.one();
			Mono<String> mono = service.mono("ivy", sink.asMono());
			assertThat(registry.requests).isEmpty();
			assertThat(state.monoCalls).hasValue(0);
			CompletableFuture<String> result = mono.toFuture();
			assertThat(state.monoCalls).hasValue(1);
			assertThat(lockedElsewhere(registry, "ivy")).isTrue();
			sink.tryEmitValue("v");
			assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo("v");
			await().atMost(Duration.ofSeconds(5)).until(() -> !lockedElsewhere(registry, "ivy"));
		});
	}

	@Test
	void aSecondMonoSubscribedFromTheSameThreadDoesNotReEnterWhileTheFirstRuns() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			Sinks.One<String> sink = Sinks.one();
			CompletableFuture<String> first = service.mono("kim", sink.asMono()).toFuture();
			assertThat(first).isNotDone();
			// same thread, same user (waitTime 0): refused, not re-entered
			CompletableFuture<String> second = service.mono("kim", Mono.just("second")).toFuture();
			assertThatExceptionOfType(ExecutionException.class).isThrownBy(() -> second.get(10, TimeUnit.SECONDS))
				.withCauseInstanceOf(LockConflictException.class);
			sink.tryEmitValue("v");
			assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("v");
			assertThat(service.mono("kim", Mono.just("third")).toFuture().get(10, TimeUnit.SECONDS)).isEqualTo("third");
		});
	}

	@Test
	void monoReleasesTheLockWhenCancelled() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			RecordingLockRegistry registry = context.getBean(RecordingLockRegistry.class);
			Sinks.One<String> sink = Sinks.one();
			var subscription = service.mono("jack", sink.asMono()).subscribe();
			assertThat(lockedElsewhere(registry, "jack")).isTrue();
			subscription.dispose();
			await().atMost(Duration.ofSeconds(5)).until(() -> !lockedElsewhere(registry, "jack"));
		});
	}

	@Test
	void fluxHoldsTheLockUntilItFailsAndEachSubscriptionLocksAgain() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			RecordingLockRegistry registry = context.getBean(RecordingLockRegistry.class);
			Sinks.Many<String> sink = Sinks.many().unicast().onBackpressureBuffer();
			Flux<String> flux = service.flux("kim", sink.asFlux());
			List<String> seen = new ArrayList<>();
			CompletableFuture<Throwable> failed = new CompletableFuture<>();
			flux.subscribe(seen::add, failed::complete);
			sink.tryEmitNext("one");
			assertThat(lockedElsewhere(registry, "kim")).isTrue();
			sink.tryEmitError(new IllegalStateException("stream failed"));
			assertThat(failed.get(10, TimeUnit.SECONDS)).hasMessage("stream failed");
			assertThat(seen).containsExactly("one");
			await().atMost(Duration.ofSeconds(5)).until(() -> !lockedElsewhere(registry, "kim"));
			assertThat(state.fluxCalls).hasValue(1);
			// a second subscription acquires again and invokes the method again
			assertThat(service.flux("kim", Flux.just("a", "b")).collectList().block(Duration.ofSeconds(10)))
				.containsExactly("a", "b");
			assertThat(state.fluxCalls).hasValue(2);
			assertThat(registry.keys()).containsExactly("kim", "kim");
		});
	}

	@Test
	void monoFailsWithConflictWithoutRunningWhenLockIsHeld() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			Future<String> first = this.executor.submit(() -> service.hold("lee", state.entered, state.proceed));
			assertThat(state.entered.await(10, TimeUnit.SECONDS)).isTrue();
			Mono<String> mono = service.mono("lee", Mono.just("x"));
			assertThatExceptionOfType(LockConflictException.class).isThrownBy(() -> mono.block(Duration.ofSeconds(10)));
			assertThat(state.monoCalls).hasValue(0);
			state.proceed.countDown();
			first.get(10, TimeUnit.SECONDS);
		});
	}

	@Test
	void nestedCallOnSameKeyReentersAndKeepsTheOuterLock() {
		run((context) -> {
			Outer outer = context.getBean(Outer.class);
			RecordingLockRegistry registry = context.getBean(RecordingLockRegistry.class);
			List<Boolean> lockedAfterInner = new ArrayList<>();
			outer.outer("max", () -> lockedAfterInner.add(call(() -> lockedElsewhere(registry, "max"))));
			assertThat(lockedAfterInner).containsExactly(true);
			assertThat(registry.keys()).containsExactly("max", "max");
			assertThat(lockedElsewhere(registry, "max")).isFalse();
		});
	}

	@Test
	void holdAtLeastRefusesAQuickDuplicateThenExpires() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			assertThat(service.once("nina")).isEqualTo(1);
			assertThatExceptionOfType(LockConflictException.class).isThrownBy(() -> service.once("nina"));
			assertThat(state.onceRuns).hasValue(1);
			// another user is not affected
			assertThat(service.once("oscar")).isEqualTo(2);
			await().atMost(Duration.ofSeconds(5))
				.pollInterval(Duration.ofMillis(50))
				.ignoreExceptions()
				.until(() -> service.once("nina") == 3);
		});
	}

	@Test
	void unavailableStoreFailsClosedWithoutRunningTheMethod() {
		this.runner
			.withBean("unavailableRegistry", LockRegistry.class, UnavailableRegistry::new,
					(definition) -> definition.setPrimary(true))
			.run((context) -> {
				Service service = context.getBean(Service.class);
				State state = context.getBean(State.class);
				assertThatExceptionOfType(LockUnavailableException.class).isThrownBy(() -> service.noWait("pia"));
				assertThat(state.noWaitRuns).hasValue(0);
			});
	}

	@Test
	void unannotatedMethodsOfALockedBeanAreNotLocked() {
		run((context) -> {
			Service service = context.getBean(Service.class);
			State state = context.getBean(State.class);
			RecordingLockRegistry registry = context.getBean(RecordingLockRegistry.class);
			assertThat(service.plain("q")).isEqualTo("q");
			assertThat(registry.requests).isEmpty();
		});
	}

	private static <T> T call(java.util.concurrent.Callable<T> callable) {
		try {
			return callable.call();
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

	@Configuration(proxyBeanMethods = false)
	static class Config {

		@Bean
		RecordingLockRegistry recordingLockRegistry() {
			return new RecordingLockRegistry();
		}

		@Bean
		State state() {
			return new State();
		}

		@Bean
		Service service(State state) {
			return new Service(state);
		}

		@Bean
		Accounts accounts() {
			return new DefaultAccounts();
		}

		@Bean
		Outer outer(Inner inner) {
			return new Outer(inner);
		}

		@Bean
		Inner inner() {
			return new Inner();
		}

		@Bean
		KeyMaker keys() {
			return new KeyMaker();
		}

	}

	public static class KeyMaker {

		public String of(String uid) {
			return "prefixed-" + uid;
		}

	}

	/**
	 * What the locked methods saw; a separate bean because fields of a class-based proxy
	 * are not the target's.
	 */
	static class State {

		final CountDownLatch entered = new CountDownLatch(1);

		final CountDownLatch proceed = new CountDownLatch(1);

		final AtomicInteger noWaitRuns = new AtomicInteger();

		final AtomicInteger transfers = new AtomicInteger();

		final AtomicInteger concurrentTransfers = new AtomicInteger();

		final AtomicInteger maxConcurrentTransfers = new AtomicInteger();

		final AtomicInteger monoCalls = new AtomicInteger();

		final AtomicInteger fluxCalls = new AtomicInteger();

		final AtomicInteger onceRuns = new AtomicInteger();

	}

	public static class Service {

		final State state;

		Service(State state) {
			this.state = state;
		}

		@UserLock(key = "#uid", waitTime = "10s")
		public String hold(String uid, CountDownLatch entered, CountDownLatch proceed) throws InterruptedException {
			entered.countDown();
			assertThat(proceed.await(20, TimeUnit.SECONDS)).isTrue();
			return "held " + uid;
		}

		@UserLock(key = "#uid", waitTime = "0")
		public String noWait(String uid) {
			this.state.noWaitRuns.incrementAndGet();
			return "ran " + uid;
		}

		@UserLock(key = "#uid", waitTime = "10s")
		public String longWait(String uid) {
			return "waited " + uid;
		}

		@UserLock(key = "#uid")
		public void fail(String uid) {
			throw new IllegalStateException("boom");
		}

		@UserLock(key = { "#from", "#to" }, waitTime = "10s")
		public void transfer(String from, String to) {
			int now = this.state.concurrentTransfers.incrementAndGet();
			this.state.maxConcurrentTransfers.accumulateAndGet(now, Math::max);
			this.state.transfers.incrementAndGet();
			this.state.concurrentTransfers.decrementAndGet();
		}

		@UserLock(key = "#ids")
		public void batch(List<String> ids) {
		}

		@UserLock(key = "#ids")
		public void batchArray(String[] ids) {
		}

		@UserLock(key = { "#p0", "#a1", "#root.methodName + ':' + #uid", "@keys.of(#uid)" })
		public void expressions(String uid, int count) {
		}

		@UserLock(key = "#uid", name = "orders", waitTime = "${test.wait}", leaseTime = "PT1M")
		public void configured(String uid) {
		}

		@UserLock(key = "#uid")
		public CompletableFuture<String> async(String uid, CompletableFuture<String> work) {
			return work;
		}

		@UserLock(key = "#uid", waitTime = "0")
		public CompletableFuture<String> asyncNoWait(String uid, CompletableFuture<String> work) {
			return work;
		}

		@UserLock(key = "#uid", waitTime = "0")
		public Mono<String> mono(String uid, Mono<String> source) {
			this.state.monoCalls.incrementAndGet();
			return source;
		}

		@UserLock(key = "#uid")
		public Flux<String> flux(String uid, Flux<String> source) {
			this.state.fluxCalls.incrementAndGet();
			return source;
		}

		@UserLock(key = "#uid", waitTime = "0", holdAtLeast = "700ms")
		public int once(String uid) {
			return this.state.onceRuns.incrementAndGet();
		}

		public String plain(String value) {
			return value;
		}

	}

	public interface Accounts {

		@UserLock(key = "#uid")
		void credit(String uid);

		void debit(String uid);

	}

	static class DefaultAccounts implements Accounts {

		@Override
		public void credit(String uid) {
		}

		@Override
		@NoWaitLock(key = "#uid")
		public void debit(String uid) {
		}

	}

	/** A composed annotation: {@code @UserLock} with a fixed name and no waiting. */
	@Target(ElementType.METHOD)
	@Retention(RetentionPolicy.RUNTIME)
	@UserLock(key = "", name = "meta", waitTime = "0")
	@interface NoWaitLock {

		@AliasFor(annotation = UserLock.class, attribute = "key")
		String[] key();

	}

	public static class Outer {

		private final Inner inner;

		Outer(Inner inner) {
			this.inner = inner;
		}

		@UserLock(key = "#uid", waitTime = "0")
		public void outer(String uid, Runnable afterInner) {
			this.inner.inner(uid);
			afterInner.run();
		}

	}

	public static class Inner {

		@UserLock(key = "#uid", waitTime = "0")
		public void inner(String uid) {
		}

	}

	static class UnavailableRegistry implements LockRegistry {

		@Override
		public LockHandle acquire(LockRequest request) {
			throw new LockUnavailableException(request.key(), "Redis is down", null);
		}

		@Override
		public Optional<LockHandle> tryAcquire(LockRequest request) {
			throw new LockUnavailableException(request.key(), "Redis is down", null);
		}

		@Override
		public void addListener(LockListener listener) {
		}

	}

}
