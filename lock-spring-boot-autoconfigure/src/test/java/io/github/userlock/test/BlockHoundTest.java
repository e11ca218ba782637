package io.github.userlock.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.Tag;

/**
 * Marks a test class that installs BlockHound ({@code BlockHound.install()}): surefire
 * runs it in the {@code blockhound-tests} execution, in a JVM of its own with the flags
 * BlockHound needs, and leaves it out of the default execution, where BlockHound would
 * fail unrelated tests that block on a Reactor or Netty thread (see
 * lock-spring-boot-autoconfigure/pom.xml). Name such classes {@code *BlockHoundTests} or
 * {@code BlockHound*Tests}.
 *
 * <p>
 * Every test of the execution shares the JVM, and BlockHound is installed only once
 * there: the first {@code BlockHound.install(...)} wins and later calls are ignored, so
 * each such test calls it (any test may run first) and allowances for blocking calls go
 * into a {@code reactor.blockhound.integration.BlockHoundIntegration} registered in
 * {@code META-INF/services}, which every {@code install()} loads, not into the arguments
 * of one test's call.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Tag(BlockHoundTest.TAG)
public @interface BlockHoundTest {

	/** The JUnit tag that the surefire executions select on. */
	String TAG = "blockhound";

}
