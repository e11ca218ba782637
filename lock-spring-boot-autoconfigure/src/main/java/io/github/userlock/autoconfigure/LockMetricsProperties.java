package io.github.userlock.autoconfigure;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration of the lock's metrics and observations, under {@code lock.metrics.*}.
 */
@ConfigurationProperties("lock.metrics")
public class LockMetricsProperties {

	/**
	 * Whether to record the lock's Micrometer meters and observations (lock.acquire,
	 * lock.held, lock.lost, lock.renewals, lock.renewal.calls, lock.call).
	 */
	private boolean enabled = true;

	/**
	 * Properties with metrics on.
	 */
	public LockMetricsProperties() {
	}

	/**
	 * Returns whether the lock's meters and observations are recorded.
	 * @return whether metrics are on
	 */
	public boolean isEnabled() {
		return this.enabled;
	}

	/**
	 * Sets whether the lock's meters and observations are recorded.
	 * @param enabled whether metrics are on
	 */
	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

}
