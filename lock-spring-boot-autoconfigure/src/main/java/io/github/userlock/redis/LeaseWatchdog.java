package io.github.userlock.redis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import io.github.userlock.support.LockObserver;
import io.lettuce.core.cluster.SlotHash;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews every held lease every third of it. One task for the whole registry: at each
 * tick it renews every lease due within the next sixth of it, so leases taken at
 * different moments are renewed together, in batches of up to {@value #RENEW_BATCH} keys
 * per script call (per hash slot on a cluster). A lease that Redis says is no longer
 * ours, or that ran out before a renewal succeeded, is reported lost to the grant that
 * holds it then.
 *
 * <p>
 * Its thread only sends renewals and applies their answers: listeners and lost-callbacks
 * run on the registry's event thread, so a slow callback never delays a renewal.
 */
final class LeaseWatchdog {

	private static final Logger logger = LoggerFactory.getLogger(LeaseWatchdog.class);

	static final int RENEW_BATCH = 500;

	/** Sends one renewal script call for the keys (owner and lease as arguments). */
	@FunctionalInterface
	interface Renewer {

		CompletableFuture<List<Object>> renew(String[] keys, String[] args, long sentAt);

	}

	/** Told when a lease is lost. */
	@FunctionalInterface
	interface LossReporter {

		void lost(RedisLease lease, String reason);

	}

	private final Set<RedisLease> held = ConcurrentHashMap.newKeySet();

	private final ScheduledExecutorService scheduler;

	private final boolean cluster;

	private final long timeoutNanos;

	private final Renewer renewer;

	private final LossReporter reporter;

	private final Supplier<LockObserver> observer;

	private final AtomicLong renewalCalls = new AtomicLong();

	// guarded by this
	private volatile @Nullable ScheduledFuture<?> next;

	private volatile long nextAtNanos;

	private volatile boolean stopped;

	LeaseWatchdog(ScheduledExecutorService scheduler, boolean cluster, long timeoutNanos, Renewer renewer,
			LossReporter reporter, Supplier<LockObserver> observer) {
		this.observer = observer;
		this.scheduler = scheduler;
		this.cluster = cluster;
		this.timeoutNanos = timeoutNanos;
		this.renewer = renewer;
		this.reporter = reporter;
	}

	int size() {
		return this.held.size();
	}

	/** How many renewal script calls were sent since start. */
	long renewalCalls() {
		return this.renewalCalls.get();
	}

	void add(RedisLease lease) {
		this.held.add(lease);
		scheduleNoLaterThan(lease.renewAtNanos);
	}

	void remove(RedisLease lease) {
		this.held.remove(lease);
	}

	void stop() {
		this.stopped = true;
	}

	private void scheduleNoLaterThan(long atNanos) {
		// fast path on every acquire: a tick is already due no later
		if (this.next != null && this.nextAtNanos - atNanos <= 0) {
			return;
		}
		synchronized (this) {
			reschedule(atNanos);
		}
	}

	// guarded by this
	private void reschedule(long atNanos) {
		if (this.stopped) {
			return;
		}
		if (this.next != null && this.nextAtNanos - atNanos <= 0) {
			return;
		}
		if (this.next != null) {
			this.next.cancel(false);
		}
		this.nextAtNanos = atNanos;
		try {
			this.next = this.scheduler.schedule(this::tick, Math.max(0, atNanos - System.nanoTime()),
					TimeUnit.NANOSECONDS);
		}
		catch (RejectedExecutionException ex) {
			this.next = null;
		}
	}

	private void tick() {
		synchronized (this) {
			this.next = null;
		}
		try {
			renewDue();
		}
		catch (RuntimeException ex) {
			logger.warn("Lock watchdog failed; retrying", ex);
		}
		finally {
			scheduleNextTick();
		}
	}

	/**
	 * Schedules the next tick for the earliest renewal or lease end among the held
	 * leases.
	 */
	private void scheduleNextTick() {
		long earliest = 0;
		boolean any = false;
		for (RedisLease lease : this.held) {
			long at = (!lease.renewing && lease.renewAtNanos - lease.validUntilNanos < 0) ? lease.renewAtNanos
					: lease.validUntilNanos;
			if (!any || at - earliest < 0) {
				earliest = at;
				any = true;
			}
		}
		if (any) {
			scheduleNoLaterThan(earliest);
		}
	}

	private void renewDue() {
		long now = System.nanoTime();
		Map<Integer, List<RedisLease>> due = new LinkedHashMap<>();
		for (RedisLease lease : this.held) {
			if (lease.isLost()) {
				this.held.remove(lease);
			}
			else if (now - lease.validUntilNanos >= 0) {
				if (this.held.remove(lease)) {
					this.reporter.lost(lease,
							"its lease of " + lease.leaseMillis + " ms ran out before Redis confirmed a renewal");
				}
			}
			else if (!lease.renewing && lease.renewAtNanos - now <= lease.leaseNanos() / 6) {
				int slot = this.cluster ? SlotHash.getSlot(lease.storeKey) : 0;
				due.computeIfAbsent(slot, (s) -> new ArrayList<>()).add(lease);
			}
		}
		for (List<RedisLease> leases : due.values()) {
			for (int from = 0; from < leases.size(); from += RENEW_BATCH) {
				renew(leases.subList(from, Math.min(leases.size(), from + RENEW_BATCH)));
			}
		}
	}

	/**
	 * Sends one renewal batch without waiting: the watchdog thread stays free to report
	 * leases that run out while Redis is slow. The answer is applied on the watchdog
	 * thread.
	 */
	private void renew(List<RedisLease> leases) {
		String[] keys = new String[leases.size()];
		String[] args = new String[leases.size() * 2];
		long sentAt = System.nanoTime();
		for (int i = 0; i < keys.length; i++) {
			RedisLease lease = leases.get(i);
			keys[i] = lease.storeKey;
			args[2 * i] = lease.owner;
			args[2 * i + 1] = Long.toString(lease.leaseMillis);
			lease.renewing = true;
		}
		List<RedisLease> batch = List.copyOf(leases);
		this.observer.get().renewalCall(batch.size());
		CompletableFuture<List<Object>> answer;
		try {
			this.renewalCalls.incrementAndGet();
			answer = this.renewer.renew(keys, args, sentAt).copy().orTimeout(this.timeoutNanos, TimeUnit.NANOSECONDS);
		}
		catch (RuntimeException ex) {
			answer = CompletableFuture.failedFuture(ex);
		}
		try {
			answer.whenCompleteAsync((lostIndexes, failure) -> {
				if (failure != null) {
					renewFailed(batch, failure);
				}
				else {
					renewed(batch, sentAt, lostIndexes);
				}
				scheduleNextTick();
			}, this.scheduler);
		}
		catch (RejectedExecutionException ex) {
			// closed meanwhile
		}
	}

	private void renewFailed(List<RedisLease> leases, Throwable failure) {
		logger.warn("Could not renew the leases of {} locks: {}. Retrying until their leases run out.", leases.size(),
				RedisCalls.describeFailure(failure, this.timeoutNanos));
		this.observer.get().renewals(LockObserver.RenewalOutcome.FAILED, leases.size());
		long now = System.nanoTime();
		for (RedisLease lease : leases) {
			lease.renewing = false;
			lease.renewAtNanos = now + Math.min(TimeUnit.SECONDS.toNanos(1), lease.leaseNanos() / 10);
		}
	}

	private void renewed(List<RedisLease> leases, long sentAt, List<Object> lostIndexes) {
		boolean[] lostFlags = new boolean[leases.size()];
		for (Object index : lostIndexes) {
			lostFlags[((Long) index).intValue() - 1] = true;
		}
		for (int i = 0; i < lostFlags.length; i++) {
			RedisLease lease = leases.get(i);
			lease.renewing = false;
			if (!lostFlags[i]) {
				lease.renewed(sentAt);
			}
			else if (this.held.remove(lease)) {
				this.reporter.lost(lease, "Redis no longer has it under our owner token (expired or taken over)");
			}
		}
		this.observer.get().renewals(LockObserver.RenewalOutcome.RENEWED, leases.size() - lostIndexes.size());
		this.observer.get().renewals(LockObserver.RenewalOutcome.LOST, lostIndexes.size());
	}

}
