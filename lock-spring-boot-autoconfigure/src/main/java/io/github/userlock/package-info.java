/**
 * The public lock API: {@link io.github.userlock.UserLock},
 * {@link io.github.userlock.LockRegistry}, {@link io.github.userlock.LockHandle} and the
 * {@link io.github.userlock.LockException} family.
 */
@NullMarked
package io.github.userlock;

import org.jspecify.annotations.NullMarked;
