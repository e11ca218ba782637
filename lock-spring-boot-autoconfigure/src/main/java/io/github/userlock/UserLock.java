package io.github.userlock;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs the annotated method at most once at a time per key across every instance of the
 * application that shares the lock store.
 *
 * <pre class="code">
 * &#064;UserLock(key = "#uid")
 * public Balance redeem(String uid, long amount) { ... }
 * </pre>
 *
 * The lock is acquired before the method runs and released after it returns or throws;
 * for a method that returns a {@code CompletionStage} (or a Reactor
 * {@code Mono}/{@code Flux}), after that completes. When the lock cannot be acquired
 * within the wait time the method does not run and {@link LockConflictException} is
 * thrown; when the store cannot be reached, {@link LockUnavailableException}.
 *
 * <p>
 * Usable on class and interface methods and as a meta-annotation.
 */
@Target({ ElementType.METHOD, ElementType.ANNOTATION_TYPE })
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@Documented
public @interface UserLock {

	/**
	 * SpEL expressions for the key: method parameters by name ({@code #uid}) or position
	 * ({@code #p0}, {@code #a0}), {@code #root.method}, {@code #root.target} and bean
	 * references ({@code @bean}). With several expressions, or one whose value is a
	 * collection or array, every resulting key is locked, in sorted order so that two
	 * methods locking the same keys cannot deadlock.
	 * @return the key expressions
	 */
	String[] key();

	/**
	 * An optional namespace placed between the global key prefix and the key. Empty by
	 * default, so that every method locking {@code #uid} shares one lock per user.
	 * @return the namespace
	 */
	String name() default "";

	/**
	 * How long to wait for another holder: {@code "500ms"}, {@code "2s"}, {@code "PT1M"}
	 * or a {@code ${property}} placeholder. Empty means {@code lock.wait-time};
	 * {@code "0"} means do not wait.
	 * @return the wait time
	 */
	String waitTime() default "";

	/**
	 * How long the store keeps the lock after this instance stops renewing it (crash).
	 * Empty means {@code lock.lease-time}. While the method runs, the lease is renewed
	 * every third of it.
	 * @return the lease time
	 */
	String leaseTime() default "";

	/**
	 * The minimum time the key stays locked after acquisition, even when the method
	 * finishes sooner, so that a double click or client retry arriving just after is
	 * refused too. Empty means none.
	 * @return the minimum hold time
	 */
	String holdAtLeast() default "";

}
