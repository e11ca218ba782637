/**
 * The {@link io.github.userlock.UserLock @UserLock} advice: a Spring AOP advisor whose interceptor resolves
 * the keys of a call, acquires them from the {@link io.github.userlock.LockRegistry}, runs the method and
 * releases them (for asynchronous return types, when the result completes). Key expressions and durations
 * are parsed and checked once, at start-up.
 */
@NullMarked
package io.github.userlock.aop;

import org.jspecify.annotations.NullMarked;
