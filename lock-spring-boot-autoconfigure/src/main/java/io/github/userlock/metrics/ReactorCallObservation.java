package io.github.userlock.metrics;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import io.micrometer.observation.Observation;
import io.micrometer.observation.contextpropagation.ObservationThreadLocalAccessor;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The {@code lock.call} observation of a {@code @UserLock} method that returns a
 * {@code Mono} or {@code Flux}: started at each subscription (where the lock advice
 * acquires), stopped when the result completes, fails or is cancelled. The subscription
 * runs inside the observation's scope, so the {@code lock.acquire} that happens during it
 * is nested in {@code lock.call}. Loaded only for methods returning a publisher, so only
 * when Reactor is on the classpath.
 */
final class ReactorCallObservation {

	private ReactorCallObservation() {
	}

	/** {@code result} observed per subscription, or as it is if not a Mono or Flux. */
	static Object observe(Object result, Supplier<Observation> observation) {
		if (result instanceof Mono<?> mono) {
			return Mono.defer(() -> {
				Observation started = observation.get().start();
				return Mono.from(inScope(started, observed(mono, started)));
			});
		}
		if (result instanceof Flux<?> flux) {
			return Flux.defer(() -> {
				Observation started = observation.get().start();
				return Flux.from(inScope(started, observed(flux, started)));
			});
		}
		return result;
	}

	/**
	 * {@code source} stopping {@code observation} when it ends, with the observation in
	 * its Reactor {@code Context} as the current one (Micrometer's key): the lock's
	 * acquire and the method's own publisher see {@code lock.call} as their parent, on
	 * whatever thread the lock is granted (with Reactor's automatic context propagation,
	 * as a thread-local too).
	 */
	private static <T> Flux<T> observed(Publisher<T> source, Observation observation) {
		AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
		return Flux.from(source)
			.doOnError(failure::set)
			.doFinally((signal) -> LockCallObservationInterceptor.stop(observation, failure.get()))
			.contextWrite((context) -> context.put(ObservationThreadLocalAccessor.KEY, observation));
	}

	/**
	 * Subscribes to {@code source} with {@code observation} in scope on the subscribing
	 * thread: what the subscription runs synchronously (the lock's acquire) sees it as
	 * its parent.
	 */
	private static <T> Publisher<T> inScope(Observation observation, Publisher<T> source) {
		return (subscriber) -> {
			try (Observation.Scope scope = observation.openScope()) {
				source.subscribe(subscriber);
			}
		};
	}

}
