package io.github.userlock.aop;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import io.github.userlock.LockHandle;
import io.github.userlock.LockListener;
import io.github.userlock.LockRegistry;
import io.github.userlock.LockRequest;
import io.github.userlock.memory.InMemoryLockRegistry;

/**
 * An {@link InMemoryLockRegistry} that records every request it is asked to acquire, in
 * call order.
 */
class RecordingLockRegistry implements LockRegistry {

	final InMemoryLockRegistry delegate = new InMemoryLockRegistry();

	final List<LockRequest> requests = new CopyOnWriteArrayList<>();

	@Override
	public LockHandle acquire(LockRequest request) {
		this.requests.add(request);
		return this.delegate.acquire(request);
	}

	@Override
	public Optional<LockHandle> tryAcquire(LockRequest request) {
		this.requests.add(request);
		return this.delegate.tryAcquire(request);
	}

	@Override
	public CompletableFuture<LockHandle> acquireAsync(LockRequest request) {
		this.requests.add(request);
		return this.delegate.acquireAsync(request);
	}

	@Override
	public CompletableFuture<Optional<LockHandle>> tryAcquireAsync(LockRequest request) {
		this.requests.add(request);
		return this.delegate.tryAcquireAsync(request);
	}

	@Override
	public void addListener(LockListener listener) {
		this.delegate.addListener(listener);
	}

	List<String> keys() {
		return this.requests.stream().map(LockRequest::key).toList();
	}

}
