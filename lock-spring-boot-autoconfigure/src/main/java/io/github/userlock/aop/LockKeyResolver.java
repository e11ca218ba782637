package io.github.userlock.aop;

import java.lang.reflect.Method;
import java.util.Collection;

import org.jspecify.annotations.Nullable;

/**
 * Turns the {@code key} expressions of a {@link io.github.userlock.UserLock @UserLock} method into the keys
 * of one call. The default, {@link SpelLockKeyResolver}, evaluates SpEL; declare a bean of this type to
 * replace it.
 */
public interface LockKeyResolver {

	/**
	 * Checks, once at start-up, that {@code expressions} can be resolved for {@code method}.
	 * @param expressions the {@code key} attribute of the annotation
	 * @param method the method as declared by {@code targetClass}
	 * @param targetClass the class of the bean
	 * @throws IllegalStateException describing what is wrong with which expression
	 */
	default void validate(String[] expressions, Method method, Class<?> targetClass) {
	}

	/**
	 * The keys to lock for one call, in any order and possibly with duplicates.
	 * @param expressions the {@code key} attribute of the annotation
	 * @param method the method as declared by {@code targetClass}
	 * @param args the arguments of the call
	 * @param target the bean the method is called on
	 * @param targetClass the class of the bean
	 * @return at least one key; none null or blank
	 * @throws IllegalArgumentException when an expression yields null, a blank value or an empty collection
	 */
	Collection<String> resolveKeys(String[] expressions, Method method, @Nullable Object[] args,
			@Nullable Object target, Class<?> targetClass);

}
