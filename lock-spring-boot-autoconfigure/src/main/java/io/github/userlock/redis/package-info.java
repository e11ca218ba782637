/**
 * The Redis engine: {@link io.github.userlock.redis.RedisLockRegistry}, its Lua scripts
 * (resources next to this package), the lease watchdog and the shared wake-up
 * subscription.
 */
@NullMarked
package io.github.userlock.redis;

import org.jspecify.annotations.NullMarked;
