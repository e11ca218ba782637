package io.github.userlock.support;

import java.lang.reflect.Method;

import org.jspecify.annotations.Nullable;

/**
 * The method on whose behalf the current thread acquires locks, set by the
 * {@code @UserLock} advice around its acquires, so that an observer can name the method
 * in what it reports about the hold (the {@link LoggingLockObserver}'s WARN of a lost
 * lock). Plain Java: the engines need no Spring AOP for it.
 */
public final class LockCaller {

	private static final ThreadLocal<@Nullable Method> CURRENT = new ThreadLocal<>();

	private LockCaller() {
	}

	/**
	 * The method acquiring on this thread now, or {@code null}.
	 * @return the current caller, or {@code null}
	 */
	public static @Nullable Method current() {
		return CURRENT.get();
	}

	/**
	 * Makes {@code method} the current caller of this thread; returns the previous one,
	 * for {@link #restore}.
	 * @param method the new current caller, or {@code null}
	 * @return the previous caller, or {@code null}
	 */
	public static @Nullable Method set(@Nullable Method method) {
		Method previous = CURRENT.get();
		CURRENT.set(method);
		return previous;
	}

	/**
	 * Puts back what {@link #set} returned.
	 * @param previous the caller {@link #set} returned, or {@code null} to clear it
	 */
	public static void restore(@Nullable Method previous) {
		if (previous == null) {
			CURRENT.remove();
		}
		else {
			CURRENT.set(previous);
		}
	}

	/**
	 * {@code com.example.Service.method(String, long)}, as log lines name a method.
	 * @param method the method
	 * @return the class name, method name and simple parameter type names
	 */
	public static String describe(Method method) {
		StringBuilder sb = new StringBuilder(method.getDeclaringClass().getName()).append('.')
			.append(method.getName())
			.append('(');
		Class<?>[] types = method.getParameterTypes();
		for (int i = 0; i < types.length; i++) {
			sb.append((i > 0) ? ", " : "").append(types[i].getSimpleName());
		}
		return sb.append(')').toString();
	}

}
