/**
 * The reliability suite: child JVMs contending for locks under faults, a history checker,
 * hostile keys and security of the Redis engine.
 */
@NullMarked
package io.github.userlock.reliability;

import org.jspecify.annotations.NullMarked;
