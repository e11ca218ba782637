package io.github.userlock.metrics;

import java.util.Objects;
import java.util.function.Supplier;

import io.github.userlock.aop.UserLockAdvisor;
import io.micrometer.observation.ObservationRegistry;
import org.aopalliance.aop.Advice;

import org.springframework.aop.Pointcut;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.core.Ordered;

/**
 * Adds the {@code lock.call} observation to every {@code @UserLock} method: the same
 * pointcut as the lock's advisor, one step outside it (its order less one), so that the
 * observation is open while the lock is acquired and released.
 */
public class LockCallObservationAdvisor extends AbstractPointcutAdvisor implements BeanFactoryAware {

	private static final long serialVersionUID = 1L;

	private final transient Pointcut pointcut;

	private final transient LockCallObservationInterceptor interceptor;

	private transient volatile java.util.function.Function<String, String> nameResolver = (name) -> name;

	/**
	 * An advisor for the methods of {@code lockAdvisor}, ordered just outside it;
	 * {@code observations} is looked up at the first call.
	 * @param lockAdvisor the lock advisor whose methods are observed
	 * @param observations the supplier of the observation registry
	 */
	public LockCallObservationAdvisor(UserLockAdvisor lockAdvisor, Supplier<ObservationRegistry> observations) {
		Objects.requireNonNull(lockAdvisor, "lockAdvisor");
		Objects.requireNonNull(observations, "observations");
		this.pointcut = lockAdvisor.getPointcut();
		this.interceptor = new LockCallObservationInterceptor(observations, (name) -> this.nameResolver.apply(name));
		int lockOrder = lockAdvisor.getOrder();
		setOrder((lockOrder == Ordered.HIGHEST_PRECEDENCE) ? lockOrder : lockOrder - 1);
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
	 * Resolves {@code ${...}} placeholders in the annotation's name, as the lock does.
	 */
	@Override
	public void setBeanFactory(BeanFactory beanFactory) {
		if (beanFactory instanceof ConfigurableBeanFactory configurable) {
			this.nameResolver = (name) -> {
				String resolved = name.contains("${") ? configurable.resolveEmbeddedValue(name) : name;
				return (resolved != null) ? resolved : name;
			};
		}
	}

}
