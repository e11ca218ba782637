package io.github.userlock.support;

import java.util.ArrayList;
import java.util.List;

import io.github.userlock.LockRequest;
import io.github.userlock.memory.InMemoryLockRegistry;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link LockObserver#composite}: every observer gets back its own context, and one that
 * throws neither stops the others nor the lock.
 */
@Timeout(10)
class CompositeLockObserverTests {

	@Test
	void eachObserverGetsItsOwnContextAndAFailingOneStopsNothing() {
		List<String> events = new ArrayList<>();
		LockObserver first = new Recording("first", events);
		LockObserver failing = new LockObserver() {
			@Override
			public Object lockHeld(LockRequest request, LockGrant grant) {
				throw new IllegalStateException("observer bug");
			}
		};
		LockObserver second = new Recording("second", events);
		try (InMemoryLockRegistry registry = new InMemoryLockRegistry()) {
			registry.setObserver(LockObserver.composite(List.of(first, failing, second)));
			registry.acquire(LockRequest.of("k").withNamespace("ns")).release();
		}
		// the hold starts inside the acquire call, before it returns
		assertThat(events).containsExactly("first started", "second started", "first held", "second held",
				"first finished first-acquire acquired", "second finished second-acquire acquired",
				"first released first-hold", "second released second-hold");
	}

	@Test
	void noneOrOneObserverIsNotWrapped() {
		LockObserver only = new Recording("only", new ArrayList<>());
		assertThat(LockObserver.composite(List.of())).isSameAs(LockObserver.NONE);
		assertThat(LockObserver.composite(List.of(only))).isSameAs(only);
	}

	private static final class Recording implements LockObserver {

		private final String name;

		private final List<String> events;

		Recording(String name, List<String> events) {
			this.name = name;
			this.events = events;
		}

		@Override
		public Object acquireStarted(LockRequest request) {
			this.events.add(this.name + " started");
			return this.name + "-acquire";
		}

		@Override
		public void acquireFinished(LockRequest request, AcquireOutcome outcome, long waitNanos,
				@Nullable Throwable failure, @Nullable Object context) {
			this.events.add(this.name + " finished " + context + " " + outcome.value());
		}

		@Override
		public Object lockHeld(LockRequest request, LockGrant grant) {
			this.events.add(this.name + " held");
			return this.name + "-hold";
		}

		@Override
		public void lockReleased(LockGrant grant, @Nullable Object context) {
			this.events.add(this.name + " released " + context);
		}

	}

}
