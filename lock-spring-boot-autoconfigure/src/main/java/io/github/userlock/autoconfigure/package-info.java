/**
 * Auto-configuration of the lock: the {@link io.github.userlock.LockRegistry} for the
 * configured store, the {@link io.github.userlock.UserLock @UserLock} advice and, in a
 * Spring MVC or WebFlux application, the mapping of lock exceptions to problem-details
 * responses.
 */
@NullMarked
package io.github.userlock.autoconfigure;

import org.jspecify.annotations.NullMarked;
