/**
 * A side-by-side benchmark of this project's lock, Redisson's {@code RLock} and Spring
 * Integration's {@code RedisLockRegistry} on one redis-server that the harness starts.
 * Run it with {@code java -jar lock-benchmarks/target/lock-benchmarks.jar}; see
 * {@code docs/BENCHMARKS.md}.
 */
@NullMarked
package io.github.userlock.benchmarks;

import org.jspecify.annotations.NullMarked;
