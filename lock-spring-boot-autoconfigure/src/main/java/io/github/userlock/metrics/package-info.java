/**
 * Micrometer metrics and Observation API spans of the lock: {@code lock.acquire},
 * {@code lock.held}, {@code lock.lost}, {@code lock.renewals}, {@code lock.renewal.calls}
 * and {@code lock.call}. Used only when Micrometer is on the class path; the engines do
 * not depend on it.
 */
@NullMarked
package io.github.userlock.metrics;

import org.jspecify.annotations.NullMarked;
