/**
 * The sample application: a per-user points wallet in Redis whose grant and redeem are guarded by
 * {@link io.github.userlock.UserLock @UserLock}, and an embedded {@code redis-server} so that it runs with
 * nothing installed.
 */
@NullMarked
package io.github.userlock.sample;

import org.jspecify.annotations.NullMarked;
