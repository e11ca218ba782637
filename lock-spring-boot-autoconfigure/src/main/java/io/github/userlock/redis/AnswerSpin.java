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
 *
 * <p>
 * The spin adapts to how far Redis is. Lone spins are judged in windows of
 * {@value #WINDOW} spins: when fewer than a quarter of a window's spins ended with the
 * answer (Redis answers slower than the spin lasts, as across a network), lone waiters
 * park at once for the next {@value #PAUSE} lone waits, and then spin for a window again
 * to see whether answers come quickly now. A whole window is needed to see it: while
 * waiters park, the processors go to sleep between two messages and answers come slower
 * than they do once spinning has kept them awake, so the first spins of a window miss
 * more often than the later ones. A spin ended by a second waiter says nothing about the
 * distance and is not counted.
 *
 * <p>
 * The window's counters are plain fields: only a lone waiter touches them, and one lone
 * wait follows another through {@link #waiters}, whose update orders them.
 */
final class AnswerSpin {

	/** The one instance of the process: the processors are the process's. */
	static final AnswerSpin PROCESS = new AnswerSpin(Runtime.getRuntime().availableProcessors() > 1);

	/** Lone spins judged together. */
	static final int WINDOW = 64;

	/** Lone waits that park at once after a window whose spins were rarely answered. */
	static final int PAUSE = 1024;

	/** Fewer answered spins than this in a window turn the spin off for a pause. */
	private static final int ANSWERED_ENOUGH = WINDOW / 4;

	private final boolean multiProcessor;

	/** Threads of the process waiting for an answer now, spinning or parked. */
	private final AtomicInteger waiters = new AtomicInteger();

	/** Spins counted in the current window. */
	private int spins;

	/** Of those, the spins the answer ended. */
	private int answered;

	/** Lone waits still to park at once; 0 while spinning. */
	private int paused;

	AnswerSpin(boolean multiProcessor) {
		this.multiProcessor = multiProcessor;
	}

	/**
	 * Marks the calling thread as waiting for {@code answer} and, if it is the only
	 * waiter on a machine with more than one processor and the spin is not paused, spins
	 * until the answer is there, another thread waits too or {@code spinNanos} have
	 * passed. {@link #done()} must follow once the wait is over.
	 */
	void begin(Future<?> answer, long spinNanos) {
		int waiting = this.waiters.incrementAndGet();
		if (spinNanos <= 0 || !this.multiProcessor || waiting != 1) {
			return;
		}
		if (this.paused > 0) {
			this.paused--;
			return;
		}
		long end = System.nanoTime() + spinNanos;
		while (!answer.isDone() && this.waiters.get() == 1 && System.nanoTime() - end < 0) {
			Thread.onSpinWait();
		}
		if (answer.isDone()) {
			count(true);
		}
		else if (this.waiters.get() == 1) {
			count(false);
		}
	}

	private void count(boolean answeredInTime) {
		if (answeredInTime) {
			this.answered++;
		}
		if (++this.spins < WINDOW) {
			return;
		}
		if (this.answered < ANSWERED_ENOUGH) {
			this.paused = PAUSE;
		}
		this.spins = 0;
		this.answered = 0;
	}

	/** Ends the wait {@link #begin} marked. */
	void done() {
		this.waiters.decrementAndGet();
	}

	/** Threads waiting now, for tests. */
	int waiters() {
		return this.waiters.get();
	}

	/** Whether the next lone wait spins, for tests. */
	boolean spinning() {
		return this.paused == 0;
	}

}
