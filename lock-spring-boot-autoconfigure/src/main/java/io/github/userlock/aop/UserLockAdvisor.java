package io.github.userlock.aop;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

import io.github.userlock.LockRegistry;
import io.github.userlock.UserLock;
import org.aopalliance.aop.Advice;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.Pointcut;
import org.springframework.aop.framework.autoproxy.AutoProxyUtils;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.AnnotationUtils;
import org.springframework.util.ClassUtils;

/**
 * The advisor that applies {@link UserLock @UserLock}: a pointcut for annotated methods
 * and an interceptor that runs them under their locks. Register it as an infrastructure
 * bean next to an auto-proxy creator (the auto-configuration does both).
 *
 * <p>
 * Its default order, {@link #DEFAULT_ORDER}, is just above {@code @Transactional}'s
 * default ({@link Ordered#LOWEST_PRECEDENCE}), so the lock wraps the transaction and is
 * released only after the commit: the next holder sees the committed data.
 *
 * <p>
 * When the context has started it checks every {@code @UserLock} method of every bean
 * (key expressions, name, durations, return type) and fails start-up naming the class,
 * method and expression of each mistake.
 */
public class UserLockAdvisor extends AbstractPointcutAdvisor implements BeanFactoryAware, SmartInitializingSingleton {

	private static final long serialVersionUID = 1L;

	/**
	 * {@code Ordered.LOWEST_PRECEDENCE - 10}: outside {@code @Transactional}, which
	 * defaults to lowest.
	 */
	public static final int DEFAULT_ORDER = Ordered.LOWEST_PRECEDENCE - 10;

	private final transient UserLockPointcut pointcut = new UserLockPointcut();

	private final transient LockOperations operations;

	private final transient UserLockInterceptor interceptor;

	private transient @Nullable BeanFactory beanFactory;

	/**
	 * An advisor that looks up the registry and the key resolver at the first locked
	 * call, so that creating it does not create them (advisors are created early, before
	 * ordinary beans).
	 * @param registry the registry that hands out the locks
	 * @param keyResolver turns the annotation's expressions into lock keys
	 */
	public UserLockAdvisor(Supplier<LockRegistry> registry, Supplier<LockKeyResolver> keyResolver) {
		Objects.requireNonNull(registry, "registry");
		Objects.requireNonNull(keyResolver, "keyResolver");
		this.operations = new LockOperations(keyResolver);
		this.interceptor = new UserLockInterceptor(registry, this.operations);
		setOrder(DEFAULT_ORDER);
	}

	/**
	 * An advisor for a given registry and key resolver.
	 * @param registry the registry that hands out the locks
	 * @param keyResolver turns the annotation's expressions into lock keys
	 */
	public UserLockAdvisor(LockRegistry registry, LockKeyResolver keyResolver) {
		this(() -> registry, () -> keyResolver);
	}

	@Override
	public Pointcut getPointcut() {
		return this.pointcut;
	}

	@Override
	public Advice getAdvice() {
		return this.interceptor;
	}

	/**
	 * Resolves {@code ${...}} placeholders in the annotation's name and durations with
	 * the bean factory.
	 */
	@Override
	public void setBeanFactory(BeanFactory beanFactory) {
		this.beanFactory = beanFactory;
		if (beanFactory instanceof ConfigurableBeanFactory configurable) {
			this.operations.setValueResolver(configurable::resolveEmbeddedValue);
		}
	}

	/**
	 * Checks every {@code @UserLock} method of every bean in the context.
	 * @throws IllegalStateException listing each invalid method, expression or attribute
	 */
	@Override
	public void afterSingletonsInstantiated() {
		if (this.beanFactory instanceof ListableBeanFactory listable) {
			validate(listable);
		}
	}

	/**
	 * Checks every {@code @UserLock} method of the beans of {@code beanFactory}.
	 * @param beanFactory the factory whose beans are checked
	 * @throws IllegalStateException listing each invalid method, expression or attribute
	 */
	public void validate(ListableBeanFactory beanFactory) {
		List<String> problems = new ArrayList<>();
		for (String name : beanFactory.getBeanNamesForType(Object.class, true, false)) {
			Class<?> type = beanType(beanFactory, name);
			if (type == null || !AnnotationUtils.isCandidateClass(type, UserLock.class)) {
				continue;
			}
			Map<Method, UserLock> methods = MethodIntrospector.selectMethods(type,
					(MethodIntrospector.MetadataLookup<UserLock>) (method) -> LockOperations.findAnnotation(method,
							type));
			for (Method method : methods.keySet()) {
				try {
					this.operations.get(method, type);
				}
				catch (IllegalStateException ex) {
					problems.add(ex.getMessage() + " (bean '" + name + "')");
				}
			}
		}
		if (!problems.isEmpty()) {
			throw new IllegalStateException("Invalid @UserLock declaration(s):\n - " + String.join("\n - ", problems));
		}
	}

	private static @Nullable Class<?> beanType(ListableBeanFactory beanFactory, String name) {
		try {
			Class<?> type = null;
			if (beanFactory instanceof ConfigurableListableBeanFactory configurable) {
				type = AutoProxyUtils.determineTargetClass(configurable, name);
			}
			if (type == null) {
				type = beanFactory.getType(name, false);
			}
			return (type != null) ? ClassUtils.getUserClass(type) : null;
		}
		catch (RuntimeException ex) {
			// a bean whose type cannot be determined without creating it is checked at
			// its first call
			return null;
		}
	}

}
