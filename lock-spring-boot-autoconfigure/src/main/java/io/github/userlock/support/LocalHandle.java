package io.github.userlock.support;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import io.github.userlock.LockHandle;

/**
 * A handle of {@link AbstractLockRegistry}: one acquisition (or re-entry) of a key by a
 * thread or an asynchronous caller.
 */
final class LocalHandle implements LockHandle {

	private final AbstractLockRegistry registry;

	final LocalKey local;

	final LockGrant grant;

	final String key;

	/** Guarded by {@link #local}. */
	boolean released;

	LocalHandle(AbstractLockRegistry registry, LocalKey local, LockGrant grant, String key) {
		this.registry = registry;
		this.local = local;
		this.grant = grant;
		this.key = key;
	}

	@Override
	public String key() {
		return this.key;
	}

	@Override
	public long fencingToken() {
		return this.grant.fencingToken();
	}

	@Override
	public boolean isHeld() {
		synchronized (this.local) {
			if (this.released) {
				return false;
			}
		}
		return this.grant.isValid();
	}

	@Override
	public void onLost(Consumer<LockHandle> callback) {
		Objects.requireNonNull(callback, "callback");
		this.grant.onLost(() -> callback.accept(this));
	}

	@Override
	public void detachFromThread() {
		synchronized (this.local) {
			if (!this.released && this.local.holds == 1 && this.local.grant == this.grant) {
				this.local.owner = null;
				this.registry.observer().lockDetached(this.grant, this.grant.observerContext());
			}
		}
	}

	@Override
	public void release() {
		this.registry.release(this, Duration.ZERO, null);
	}

	@Override
	public void release(Duration holdAtLeast) {
		this.registry.release(this, Objects.requireNonNull(holdAtLeast, "holdAtLeast"), null);
	}

	@Override
	public CompletableFuture<Void> releaseAsync() {
		return releaseAsync(Duration.ZERO);
	}

	@Override
	public CompletableFuture<Void> releaseAsync(Duration holdAtLeast) {
		CompletableFuture<Void> done = new CompletableFuture<>();
		this.registry.release(this, Objects.requireNonNull(holdAtLeast, "holdAtLeast"), done);
		return done;
	}

	@Override
	public void close() {
		release();
	}

	@Override
	public String toString() {
		return "LockHandle[key=" + this.key + ", token=" + this.grant.fencingToken() + "]";
	}

}
