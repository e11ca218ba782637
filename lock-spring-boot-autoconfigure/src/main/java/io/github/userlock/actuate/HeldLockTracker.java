package io.github.userlock.actuate;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.github.userlock.LockRequest;
import io.github.userlock.support.LockGrant;
import io.github.userlock.support.LockObserver;
import org.jspecify.annotations.Nullable;

/**
 * Keeps the locks this instance holds now, for the {@code locks} endpoint: each hold from
 * the moment it is taken until its release starts. Knows nothing of the owner token.
 */
public final class HeldLockTracker implements LockObserver {

	/** The holder of a lock handed over to asynchronous work. */
	public static final String ASYNC = "async";

	private final Set<HeldLock> held = ConcurrentHashMap.newKeySet();

	/**
	 * A tracker that holds no locks yet.
	 */
	public HeldLockTracker() {
	}

	@Override
	public Object lockHeld(LockRequest request, LockGrant grant) {
		HeldLock lock = new HeldLock(request.key(), request.namespace(), grant, Instant.now(),
				Thread.currentThread().getName());
		this.held.add(lock);
		return lock;
	}

	@Override
	public void lockDetached(LockGrant grant, @Nullable Object context) {
		if (context instanceof HeldLock lock) {
			lock.holder = ASYNC;
		}
	}

	@Override
	public void lockReleased(LockGrant grant, @Nullable Object context) {
		if (context instanceof HeldLock lock) {
			this.held.remove(lock);
		}
	}

	/**
	 * The locks held now, longest held first.
	 * @return a snapshot of the held locks, oldest first
	 */
	public List<HeldLock> heldLocks() {
		List<HeldLock> locks = new ArrayList<>(this.held);
		locks.sort(Comparator.comparing(HeldLock::heldSince));
		return locks;
	}

	/** One lock held by this instance. */
	public static final class HeldLock {

		private final String key;

		private final String namespace;

		private final LockGrant grant;

		private final Instant heldSince;

		volatile String holder;

		HeldLock(String key, String namespace, LockGrant grant, Instant heldSince, String holder) {
			this.key = key;
			this.namespace = namespace;
			this.grant = grant;
			this.heldSince = heldSince;
			this.holder = holder;
		}

		/**
		 * The key, as the caller passed it.
		 * @return the key
		 */
		public String key() {
			return this.key;
		}

		/**
		 * The namespace ({@code @UserLock} name), empty for none.
		 * @return the namespace, possibly empty
		 */
		public String namespace() {
			return this.namespace;
		}

		/**
		 * When this instance took the lock.
		 * @return the instant the lock was acquired
		 */
		public Instant heldSince() {
			return this.heldSince;
		}

		/**
		 * The fencing token of the grant.
		 * @return the grant's fencing token
		 */
		public long fencingToken() {
			return this.grant.fencingToken();
		}

		/**
		 * The remaining lease in the store, when the engine knows it.
		 * @return the remaining lease, or {@code null} when unknown
		 */
		public java.time.@Nullable Duration leaseRemaining() {
			return this.grant.leaseRemaining();
		}

		/**
		 * The name of the thread that holds it, or {@value #ASYNC}.
		 * @return the holder's thread name or {@value #ASYNC}
		 */
		public String holder() {
			return this.holder;
		}

	}

}
