package io.github.userlock.support;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jspecify.annotations.Nullable;

/**
 * The release of a handle of {@link AbstractLockRegistry}: the local state first (a
 * re-entrant hold ends, or the lock is handed over to the next local waiter without the
 * store), then the store, after which the key's local turn passes on or is freed.
 */
final class HandleRelease {

	private final AbstractLockRegistry registry;

	HandleRelease(AbstractLockRegistry registry) {
		this.registry = registry;
	}

	/**
	 * Releases {@code handle}: the local state, then, unless a re-entrant hold remains or
	 * a local waiter takes the lock over, the store. With {@code completion}, nothing
	 * blocks and it completes when the release is complete (for the opt-in engines that
	 * do not await releases, when it is sent); without it the calling thread waits as the
	 * engine's blocking release does.
	 */
	void release(LocalHandle handle, Duration holdAtLeast, @Nullable CompletableFuture<Void> completion) {
		AbstractLockRegistry registry = this.registry;
		LocalKey local = handle.local;
		LockGrant grant = null;
		long keepUntil = 0;
		Waiter successor = null;
		synchronized (local) {
			if (handle.released) {
				complete(completion);
				return;
			}
			handle.released = true;
			if (!holdAtLeast.isZero() && !holdAtLeast.isNegative()) {
				local.keepUntilNanos = Math.max(local.keepUntilNanos,
						handle.grant.acquiredAtNanos() + AbstractLockRegistry.boundedNanos(holdAtLeast));
			}
			if (--local.holds == 0) {
				grant = local.grant;
				keepUntil = local.keepUntilNanos;
				local.owner = null;
				local.grant = null;
				Waiter next = local.queue.peek();
				if (next != null && keepUntil - System.nanoTime() <= 0 && grant.isValid()) {
					LockGrant handed = registry.handOff(grant, next.lease);
					if (handed != null) {
						local.queue.poll();
						next.granted = true;
						next.handOff = handed;
						successor = next;
					}
				}
			}
		}
		if (grant != null) {
			registry.observer().lockReleased(grant, grant.observerContext());
		}
		if (grant == null || successor != null) {
			try {
				if (successor != null) {
					registry.wake(successor);
				}
			}
			finally {
				registry.unretain(local);
				complete(completion);
			}
			return;
		}
		long versionAtRelease = local.version();
		AbstractLockRegistry.ReleaseDone whenDone = new AbstractLockRegistry.ReleaseDone() {

			/**
			 * Set once the turn is passed and the local state let go, by either method.
			 */
			private final AtomicBoolean done = new AtomicBoolean();

			@Override
			public void released(boolean wokeOtherProcesses) {
				if (this.done.compareAndSet(false, true)) {
					try {
						registry.passTurn(local, wokeOtherProcesses ? versionAtRelease : -1);
					}
					finally {
						registry.unretain(local);
					}
				}
				complete(completion);
			}

			@Override
			public void sent() {
				complete(completion);
				synchronized (local) {
					if (!local.queue.isEmpty() || !this.done.compareAndSet(false, true)) {
						return;
					}
					local.busy = false;
				}
				registry.unretain(local);
			}

		};
		try {
			Duration keepFor = Duration.ofNanos(Math.max(0, keepUntil - System.nanoTime()));
			if (completion != null) {
				registry.releaseInStoreAsync(grant, keepFor, whenDone);
			}
			else {
				registry.releaseInStore(grant, keepFor, whenDone);
			}
		}
		catch (RuntimeException | Error ex) {
			whenDone.released(false);
			throw ex;
		}
	}

	private static void complete(@Nullable CompletableFuture<Void> completion) {
		if (completion != null) {
			completion.complete(null);
		}
	}

}
