/**
 * Test harness shared by every Redis test: a real {@code redis-server} process
 * ({@link io.github.userlock.test.RedisServer}), a JUnit 5 extension that manages servers and clients
 * ({@link io.github.userlock.test.RedisServerExtension}) and a TCP fault-injection proxy
 * ({@link io.github.userlock.test.FaultProxy}).
 */
@NullMarked
package io.github.userlock.test;

import org.jspecify.annotations.NullMarked;
