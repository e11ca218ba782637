package io.github.userlock.metrics;

import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockInterruptedException;
import io.github.userlock.LockUnavailableException;
import io.github.userlock.UserLock;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.framework.AopProxyUtils;
import org.springframework.aop.support.AopUtils;
import org.springframework.core.MethodClassKey;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.util.function.SingletonSupplier;

/**
 * Wraps a {@code @UserLock} method in a {@code lock.call} observation, opened around the
 * lock advice, so that a trace shows the {@code lock.acquire} wait inside it apart from
 * the work. Tags: {@code lock.name}, {@code method} ({@code Class.method}) and
 * {@code outcome} ({@code success}, {@code conflict}, {@code unavailable},
 * {@code interrupted}, or {@code error} when the method itself threw). A returned
 * {@code CompletionStage} is observed until it completes; a {@code Mono} or {@code Flux},
 * which acquires on subscription, from each subscription until it completes, fails or is
 * cancelled ({@link ReactorCallObservation}).
 */
final class LockCallObservationInterceptor implements MethodInterceptor {

	/** The name of the observation. */
	static final String CALL = "lock.call";

	private static final boolean REACTOR = org.springframework.util.ClassUtils.isPresent("reactor.core.publisher.Mono",
			LockCallObservationInterceptor.class.getClassLoader());

	private final Supplier<ObservationRegistry> observations;

	private final Function<String, String> nameResolver;

	private final Map<MethodClassKey, Target> targets = new ConcurrentHashMap<>();

	LockCallObservationInterceptor(Supplier<ObservationRegistry> observations, Function<String, String> nameResolver) {
		this.observations = SingletonSupplier.of(observations);
		this.nameResolver = nameResolver;
	}

	@Override
	public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
		Object bean = invocation.getThis();
		Class<?> targetClass = (bean != null) ? AopProxyUtils.ultimateTargetClass(bean)
				: invocation.getMethod().getDeclaringClass();
		Target target = this.targets.computeIfAbsent(new MethodClassKey(invocation.getMethod(), targetClass),
				(key) -> target(invocation.getMethod(), targetClass));
		if (target.reactive) {
			// the lock advice handles Reactor's types only; other publishers pass as they
			// are
			Object result = invocation.proceed();
			return (result != null && REACTOR) ? ReactorCallObservation.observe(result, () -> observation(target))
					: result;
		}
		Observation observation = observation(target).start();
		Object result;
		try (Observation.Scope scope = observation.openScope()) {
			result = invocation.proceed();
		}
		catch (Throwable ex) {
			stop(observation, ex);
			throw ex;
		}
		if (result instanceof CompletionStage<?> stage) {
			stage.whenComplete((value, ex) -> stop(observation, ex));
		}
		else {
			stop(observation, null);
		}
		return result;
	}

	private Observation observation(Target target) {
		return Observation.createNotStarted(CALL, this.observations.get())
			.contextualName("lock call " + target.method)
			.lowCardinalityKeyValue(LockMetricsObserver.NAME_TAG, target.name)
			.lowCardinalityKeyValue("method", target.method);
	}

	static void stop(Observation observation, @Nullable Throwable failure) {
		Throwable cause = (failure instanceof CompletionException && failure.getCause() != null) ? failure.getCause()
				: failure;
		observation.lowCardinalityKeyValue(LockMetricsObserver.OUTCOME_TAG, outcome(cause));
		if (cause != null) {
			observation.error(cause);
		}
		observation.stop();
	}

	static String outcome(@Nullable Throwable failure) {
		if (failure == null) {
			return "success";
		}
		if (failure instanceof LockConflictException) {
			return "conflict";
		}
		if (failure instanceof LockUnavailableException) {
			return "unavailable";
		}
		if (failure instanceof LockInterruptedException) {
			return "interrupted";
		}
		return "error";
	}

	private Target target(Method method, Class<?> targetClass) {
		Method specific = AopUtils.getMostSpecificMethod(method, targetClass);
		UserLock annotation = AnnotatedElementUtils.findMergedAnnotation(specific, UserLock.class);
		if (annotation == null) {
			annotation = AnnotatedElementUtils.findMergedAnnotation(method, UserLock.class);
		}
		String name = (annotation != null) ? this.nameResolver.apply(annotation.name()).trim() : "";
		boolean reactive = isPublisher(method.getReturnType());
		return new Target(name.isEmpty() ? LockMetricsObserver.DEFAULT_NAME : name,
				targetClass.getSimpleName() + "." + method.getName(), reactive);
	}

	private static boolean isPublisher(Class<?> type) {
		for (Class<?> c = type; c != null; c = c.getSuperclass()) {
			if (implementsPublisher(c)) {
				return true;
			}
		}
		return false;
	}

	private static boolean implementsPublisher(Class<?> type) {
		if (type.getName().equals("org.reactivestreams.Publisher")) {
			return true;
		}
		for (Class<?> parent : type.getInterfaces()) {
			if (implementsPublisher(parent)) {
				return true;
			}
		}
		return false;
	}

	/** What is tagged for one method of one target class. */
	private record Target(String name, String method, boolean reactive) {
	}

}
