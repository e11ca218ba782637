package io.github.userlock.memory;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.github.userlock.support.AbstractLockRegistry;
import io.github.userlock.support.LockGrant;

/**
 * A {@link io.github.userlock.LockRegistry} that excludes only within this JVM. It keeps
 * the same contract as the Redis registry (re-entrancy, fencing tokens, hold-at-least,
 * release from any thread) so that code and tests written against one behave the same on
 * the other. A held lock never expires here: its holder cannot crash without the whole
 * JVM, and the lock with it, going away.
 *
 * <p>
 * Do not use it for an application that runs on more than one instance: that is the bug
 * this library exists to fix.
 */
public final class InMemoryLockRegistry extends AbstractLockRegistry {

	/**
	 * Locked keys: the fencing token of the holder and, after a hold-at-least release,
	 * when it expires.
	 */
	private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();

	private final AtomicLong tokens = new AtomicLong();

	private final AtomicLong keptReleases = new AtomicLong();

	/** A registry with a 3 s default wait, 30 s default lease and 512-byte keys. */
	public InMemoryLockRegistry() {
		this(Duration.ofSeconds(3), Duration.ofSeconds(30), 512);
	}

	/**
	 * A registry with the given defaults.
	 * @param defaultWaitTime the wait when a call gives none; not negative
	 * @param defaultLeaseTime the lease when a call gives none; at least 1 ms
	 * @param maxKeyBytes the longest key, in bytes; at least 1
	 */
	public InMemoryLockRegistry(Duration defaultWaitTime, Duration defaultLeaseTime, int maxKeyBytes) {
		super(defaultWaitTime, defaultLeaseTime, maxKeyBytes);
	}

	@Override
	protected String storeKey(String namespace, String key) {
		// the namespace holds no ':' so the first one separates it from the key
		return namespace + ":" + key;
	}

	@Override
	protected Attempt attempt(String key, String storeKey, Duration lease) {
		long now = System.nanoTime();
		long[] retryAfter = { 0 };
		Entry mine = Entry.held(this.tokens.incrementAndGet());
		Entry current = this.entries.compute(storeKey, (k, existing) -> {
			if (existing == null || existing.hasExpired(now)) {
				return mine;
			}
			// no expiry: wait for the release signal (the recheck is only a fallback)
			retryAfter[0] = existing.expires ? existing.expiresAtNanos - now : Long.MAX_VALUE;
			return existing;
		});
		if (current == mine) {
			return Attempt.granted(new LockGrant(key, storeKey, mine.token, now));
		}
		return Attempt.heldFor(retryAfter[0]);
	}

	@Override
	protected void releaseInStore(LockGrant grant, Duration keepFor, ReleaseDone whenDone) {
		boolean[] ours = { false };
		this.entries.computeIfPresent(grant.storeKey(), (k, existing) -> {
			if (existing.token != grant.fencingToken()) {
				return existing;
			}
			ours[0] = true;
			return keepFor.isZero() ? null : Entry.keptFor(existing.token, System.nanoTime(), keepFor.toNanos());
		});
		if (ours[0]) {
			signal(grant.storeKey());
			if (!keepFor.isZero() && this.keptReleases.incrementAndGet() % 1024 == 0) {
				purgeExpired();
			}
		}
		else {
			lostBeforeRelease(grant);
		}
		whenDone.released(false);
	}

	/**
	 * How many keys are locked now, or kept locked until their hold-at-least time.
	 * @return the number of locked keys
	 */
	public int lockedKeyCount() {
		purgeExpired();
		return this.entries.size();
	}

	/**
	 * Drops hold-at-least entries whose time is up, so that kept keys do not accumulate.
	 */
	private void purgeExpired() {
		long now = System.nanoTime();
		this.entries.values().removeIf((entry) -> entry.hasExpired(now));
	}

	/**
	 * A locked key: held until released ({@code expires} false, {@code expiresAtNanos}
	 * unused), or kept until {@code expiresAtNanos} after a hold-at-least release. "No
	 * expiry" is its own state, never a far-away {@code nanoTime} value: those
	 * differences overflow ({@code nanoTime} may be negative).
	 */
	private record Entry(long token, boolean expires, long expiresAtNanos) {

		static Entry held(long token) {
			return new Entry(token, false, 0);
		}

		static Entry keptFor(long token, long now, long nanos) {
			// a hold beyond ~292 years is treated as "until released"
			return (nanos >= Long.MAX_VALUE / 2) ? held(token) : new Entry(token, true, now + nanos);
		}

		boolean hasExpired(long now) {
			return this.expires && this.expiresAtNanos - now <= 0;
		}

	}

}
