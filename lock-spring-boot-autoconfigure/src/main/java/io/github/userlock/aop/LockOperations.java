package io.github.userlock.aop;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import io.github.userlock.LockRequest;
import io.github.userlock.UserLock;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.support.AopUtils;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.MethodClassKey;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.util.ClassUtils;
import org.springframework.util.StringValueResolver;

/**
 * Finds the {@code @UserLock} of a method (on the class method, an overridden interface or superclass
 * method, directly or as a meta-annotation) and turns it into a checked {@link LockOperation}, cached per
 * method and target class.
 */
final class LockOperations {

	private static final boolean reactorPresent = ClassUtils.isPresent("reactor.core.publisher.Mono",
			LockOperations.class.getClassLoader());

	private static final @Nullable Class<?> publisherClass = publisherClass();

	private static final Object NONE = new Object();

	private final Map<MethodClassKey, Object> cache = new ConcurrentHashMap<>();

	private final Supplier<LockKeyResolver> keyResolver;

	private @Nullable StringValueResolver valueResolver;

	LockOperations(Supplier<LockKeyResolver> keyResolver) {
		this.keyResolver = keyResolver;
	}

	void setValueResolver(@Nullable StringValueResolver valueResolver) {
		this.valueResolver = valueResolver;
	}

	LockKeyResolver keyResolver() {
		return this.keyResolver.get();
	}

	/** The annotation that applies to {@code method} called on an instance of {@code targetClass}, if any. */
	static @Nullable UserLock findAnnotation(Method method, Class<?> targetClass) {
		Method specific = AopUtils.getMostSpecificMethod(method, targetClass);
		UserLock annotation = AnnotatedElementUtils.findMergedAnnotation(specific, UserLock.class);
		if (annotation == null && specific != method) {
			annotation = AnnotatedElementUtils.findMergedAnnotation(method, UserLock.class);
		}
		return annotation;
	}

	/**
	 * The operation for {@code method} on {@code targetClass}, or {@code null} when it is not annotated.
	 * @throws IllegalStateException when the annotation is invalid, naming class, method and attribute
	 */
	@Nullable LockOperation get(Method method, Class<?> targetClass) {
		MethodClassKey cacheKey = new MethodClassKey(method, targetClass);
		Object cached = this.cache.get(cacheKey);
		if (cached == null) {
			LockOperation operation = build(method, targetClass);
			cached = (operation != null) ? operation : NONE;
			this.cache.put(cacheKey, cached);
		}
		return (cached != NONE) ? (LockOperation) cached : null;
	}

	private @Nullable LockOperation build(Method method, Class<?> targetClass) {
		UserLock annotation = findAnnotation(method, targetClass);
		if (annotation == null) {
			return null;
		}
		Method specific = AopUtils.getMostSpecificMethod(method, targetClass);
		String where = "@UserLock on " + SpelLockKeyResolver.describe(specific);
		String[] keys = annotation.key();
		this.keyResolver.get().validate(keys, specific, targetClass);
		String namespace = resolve(annotation.name(), where, "name");
		try {
			LockRequest.of("probe").withNamespace(namespace);
		}
		catch (IllegalArgumentException ex) {
			throw new IllegalStateException(where + ": invalid name: " + ex.getMessage(), ex);
		}
		Duration waitTime = duration(annotation.waitTime(), where, "waitTime");
		Duration leaseTime = duration(annotation.leaseTime(), where, "leaseTime");
		if (leaseTime != null && leaseTime.toMillis() < 1) {
			throw new IllegalStateException(where + ": leaseTime '" + annotation.leaseTime()
					+ "' must be at least 1 ms");
		}
		Duration holdAtLeast = duration(annotation.holdAtLeast(), where, "holdAtLeast");
		return new LockOperation(specific, keys, namespace, waitTime, leaseTime,
				(holdAtLeast != null) ? holdAtLeast : Duration.ZERO, kind(specific, where));
	}

	private String resolve(String value, String where, String attribute) {
		if (this.valueResolver == null || !value.contains("${")) {
			return value;
		}
		try {
			String resolved = this.valueResolver.resolveStringValue(value);
			if (resolved != null && resolved.contains("${")) {
				// a lenient resolver (no placeholder configurer) leaves unknown placeholders as they are
				throw new IllegalArgumentException("no property for it, resolved to '" + resolved + "'");
			}
			return (resolved != null) ? resolved.trim() : "";
		}
		catch (IllegalArgumentException ex) {
			throw new IllegalStateException(where + ": " + attribute + " '" + value + "' cannot be resolved: "
					+ ex.getMessage(), ex);
		}
	}

	private @Nullable Duration duration(String value, String where, String attribute) {
		String text = resolve(value, where, attribute).trim();
		if (text.isEmpty()) {
			return null;
		}
		Duration duration;
		try {
			duration = DurationStyle.detectAndParse(text);
		}
		catch (IllegalArgumentException ex) {
			throw new IllegalStateException(where + ": " + attribute + " '" + value + "'"
					+ (text.equals(value) ? "" : " (resolved to '" + text + "')")
					+ " is not a duration; use e.g. \"500ms\", \"2s\", \"PT1M\" or a ${property}", ex);
		}
		if (duration.isNegative()) {
			throw new IllegalStateException(where + ": " + attribute + " '" + value + "' must not be negative");
		}
		return duration;
	}

	private static LockOperation.Kind kind(Method method, String where) {
		Class<?> type = method.getReturnType();
		if (CompletionStage.class.isAssignableFrom(type)) {
			return LockOperation.Kind.COMPLETION_STAGE;
		}
		if (publisherClass != null && publisherClass.isAssignableFrom(type)) {
			LockOperation.Kind kind = reactorPresent ? ReactorSupport.kind(type) : null;
			if (kind == null) {
				// releasing when the method returns would unlock before the work runs
				throw new IllegalStateException(where + ": return type " + type.getName()
						+ " is not supported; return a Reactor Mono or Flux, or a CompletionStage, so that the lock "
						+ "is held until the result completes");
			}
			return kind;
		}
		return LockOperation.Kind.SYNCHRONOUS;
	}

	private static @Nullable Class<?> publisherClass() {
		ClassLoader classLoader = LockOperations.class.getClassLoader();
		String name = "org.reactivestreams.Publisher";
		return ClassUtils.isPresent(name, classLoader) ? ClassUtils.resolveClassName(name, classLoader) : null;
	}

}
