/**
 * {@link io.github.userlock.memory.InMemoryLockRegistry}: the lock contract inside one
 * JVM, for local development and for the tests of applications that use the starter.
 */
@NullMarked
package io.github.userlock.memory;

import org.jspecify.annotations.NullMarked;
