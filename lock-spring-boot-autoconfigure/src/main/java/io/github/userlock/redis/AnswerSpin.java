package io.github.userlock.redis;

import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A short spin of a thread waiting for Redis's answer before it parks
 * ({@code lock.spin-wait}).
 *
 * <p>
 * A parked thread costs the thread that completes its answer a wake-up, and when the
 * processor it sleeps on has gone idle that wake-up is an inter-processor interrupt (in a
 * virtual machine, an exit to the hypervisor), which can cost more than the round trip to
 * a nearby Redis; a processor that stays busy also keeps the I/O thread and Redis from
 * being spread over processors that each go to sleep between two messages. So a waiter
 * spins for at most the configured time, but only when it is the only thread of the
 * process waiting for an answer (in a busy process the processors have other work, and a
 * spinner would take one from the I/O thread or from Redis), never on a single processor,
 * and it stops as soon as a second waiter comes. Outcomes do not change: the deadline and
 * the interrupt are checked as before once the spin ends.
 */
final class AnswerSpin {

	/** The one instance of the process: the processors are the process's. */
	static final AnswerSpin PROCESS = new AnswerSpin(Runtime.getRuntime().availableProcessors() > 1);

	private final boolean multiProcessor;

	/** Threads of the process waiting for an answer now, spinning or parked. */
	private final AtomicInteger waiters = new AtomicInteger();

	AnswerSpin(boolean multiProcessor) {
		this.multiProcessor = multiProcessor;
	}

	/**
	 * Marks the calling thread as waiting for {@code answer} and, if it is the only
	 * waiter on a machine with more than one processor, spins until the answer is there,
	 * another thread waits too or {@code spinNanos} have passed. {@link #done()} must
	 * follow once the wait is over.
	 */
	void begin(Future<?> answer, long spinNanos) {
		int waiting = this.waiters.incrementAndGet();
		if (spinNanos <= 0 || !this.multiProcessor || waiting != 1) {
			return;
		}
		long end = System.nanoTime() + spinNanos;
		while (!answer.isDone() && this.waiters.get() == 1 && System.nanoTime() - end < 0) {
			Thread.onSpinWait();
		}
	}

	/** Ends the wait {@link #begin} marked. */
	void done() {
		this.waiters.decrementAndGet();
	}

	/** Threads waiting now, for tests. */
	int waiters() {
		return this.waiters.get();
	}

}
