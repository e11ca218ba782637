package io.github.userlock.aop;

import java.lang.reflect.Method;

import org.jspecify.annotations.Nullable;

/**
 * The root object of a {@code @UserLock} key expression: {@code #root.method},
 * {@code #root.methodName}, {@code #root.target}, {@code #root.targetClass} and
 * {@code #root.args}.
 */
public final class LockExpressionRoot {

	private final Method method;

	private final @Nullable Object target;

	private final Class<?> targetClass;

	private final @Nullable Object[] args;

	LockExpressionRoot(Method method, @Nullable Object target, Class<?> targetClass, @Nullable Object[] args) {
		this.method = method;
		this.target = target;
		this.targetClass = targetClass;
		this.args = args;
	}

	/**
	 * The locked method ({@code #root.method}).
	 * @return the method
	 */
	public Method getMethod() {
		return this.method;
	}

	/**
	 * The locked method's name ({@code #root.methodName}).
	 * @return the name
	 */
	public String getMethodName() {
		return this.method.getName();
	}

	/**
	 * The bean the method was called on ({@code #root.target}).
	 * @return the target, or {@code null}
	 */
	public @Nullable Object getTarget() {
		return this.target;
	}

	/**
	 * The class of the target ({@code #root.targetClass}).
	 * @return the class
	 */
	public Class<?> getTargetClass() {
		return this.targetClass;
	}

	/**
	 * The call's arguments ({@code #root.args}).
	 * @return the arguments
	 */
	public @Nullable Object[] getArgs() {
		return this.args;
	}

}
