package io.github.userlock.autoconfigure;

import io.github.userlock.aop.UserLockAdvisor;
import io.github.userlock.metrics.LockCallObservationAdvisor;
import io.github.userlock.metrics.LockMetricsObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.observation.ObservationRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Role;

/**
 * Micrometer meters and observations of the lock ({@link LockMetricsObserver}) and the
 * {@code lock.call} observation around {@code @UserLock} methods, when Micrometer is on
 * the class path and the application has a {@code MeterRegistry}; off with
 * {@code lock.metrics.enabled=false}. The acquire observation goes to the application's
 * {@code ObservationRegistry} (so it is a span when tracing is on); without one, to a
 * registry of its own that only times it.
 */
@AutoConfiguration(after = LockAutoConfiguration.class,
		afterName = {
				"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
				"org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration",
				"org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration",
				"org.springframework.boot.actuate.autoconfigure.observation.ObservationAutoConfiguration" })
@ConditionalOnClass({ MeterRegistry.class, ObservationRegistry.class })
@ConditionalOnBooleanProperty(name = { "lock.enabled", "lock.metrics.enabled" }, matchIfMissing = true)
@EnableConfigurationProperties(LockMetricsProperties.class)
public final class LockMetricsAutoConfiguration {

	/**
	 * Creates the auto-configuration; Spring calls it.
	 */
	public LockMetricsAutoConfiguration() {
	}

	@Bean
	@ConditionalOnBean(MeterRegistry.class)
	@ConditionalOnMissingBean
	LockMetricsObserver lockMetricsObserver(MeterRegistry meters, ObjectProvider<ObservationRegistry> observations) {
		return new LockMetricsObserver(meters, observations.getIfAvailable(() -> timingOnly(meters)));
	}

	@Bean
	@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
	@ConditionalOnBean(UserLockAdvisor.class)
	@ConditionalOnMissingBean
	static LockCallObservationAdvisor lockCallObservationAdvisor(UserLockAdvisor lockAdvisor,
			ObjectProvider<LockMetricsObserver> metrics) {
		// looked up at the first call: advisors are created before other beans; the same
		// registry as lock.acquire's, so that the two nest
		return new LockCallObservationAdvisor(lockAdvisor, () -> {
			LockMetricsObserver observer = metrics.getIfAvailable();
			return (observer != null) ? observer.observationRegistry() : ObservationRegistry.NOOP;
		});
	}

	private static ObservationRegistry timingOnly(MeterRegistry meters) {
		ObservationRegistry registry = ObservationRegistry.create();
		registry.observationConfig().observationHandler(new DefaultMeterObservationHandler(meters));
		return registry;
	}

}
