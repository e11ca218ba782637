package io.github.userlock.aop;

import io.github.userlock.UserLock;
import io.github.userlock.autoconfigure.LockAutoConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/** Start-up fails on every kind of {@code @UserLock} mistake, naming class, method and expression. */
@Timeout(30)
class UserLockValidationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class))
		.withPropertyValues("lock.store=memory", "bad.duration=soon", "good.duration=250ms");

	private void failsWith(Class<?> beanClass, String... fragments) {
		this.runner.withBean(beanClass).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context).getFailure()
				.isInstanceOf(IllegalStateException.class)
				.isInstanceOf(IllegalStateException.class)
				.hasMessageContaining("Invalid @UserLock declaration")
				.hasMessageContaining(beanClass.getName() + ".");
			for (String fragment : fragments) {
				assertThat(context).getFailure().hasMessageContaining(fragment);
			}
		});
	}

	@Test
	void expressionThatDoesNotParseFailsStartUp() {
		failsWith(Unparsable.class, "redeem(String)", "'#uid +'", "does not parse");
	}

	@Test
	void unknownParameterNameFailsStartUp() {
		failsWith(UnknownParameter.class, "redeem(String, long)", "'#user'", "#user",
				"not a parameter of the method (#uid, #amount)");
	}

	@Test
	void positionBeyondArityFailsStartUp() {
		failsWith(PositionBeyondArity.class, "redeem(String)", "'#p1'", "has 1 parameter(s)");
	}

	@Test
	void blankExpressionFailsStartUp() {
		failsWith(BlankExpression.class, "redeem(String)", "blank key expression");
	}

	@Test
	void durationThatDoesNotParseFailsStartUp() {
		failsWith(BadDuration.class, "redeem(String)", "waitTime '2 seconds'", "is not a duration");
	}

	@Test
	void placeholderResolvingToNoDurationFailsStartUp() {
		failsWith(BadPlaceholderDuration.class, "leaseTime '${bad.duration}'", "resolved to 'soon'");
	}

	@Test
	void unresolvablePlaceholderFailsStartUp() {
		failsWith(UnresolvablePlaceholder.class, "holdAtLeast '${missing.duration}'", "cannot be resolved");
	}

	@Test
	void invalidNameFailsStartUp() {
		failsWith(BadName.class, "invalid name", "'a:b'");
	}

	@Test
	void zeroLeaseFailsStartUp() {
		failsWith(ZeroLease.class, "leaseTime '0'", "at least 1 ms");
	}

	@Test
	void unsupportedReactiveReturnTypeFailsStartUp() {
		failsWith(UnsupportedPublisher.class, "return type", "is not supported");
	}

	@Test
	void everyMistakeIsListed() {
		this.runner.withBean(UnknownParameter.class).withBean(BadDuration.class).run((context) -> assertThat(context)
			.getFailure()
			.isInstanceOf(IllegalStateException.class)
			.hasMessageContaining(UnknownParameter.class.getName())
			.hasMessageContaining(BadDuration.class.getName()));
	}

	@Test
	void mistakeOnAnInterfaceMethodFailsStartUp() {
		this.runner.withBean(Implementation.class).run((context) -> assertThat(context).getFailure()
			.isInstanceOf(IllegalStateException.class)
			.hasMessageContaining(Implementation.class.getName() + ".redeem(String)")
			.hasMessageContaining("#nobody"));
	}

	@Test
	void validDeclarationsStart() {
		this.runner.withBean(Valid.class).run((context) -> assertThat(context).hasNotFailed());
	}

	public static class Unparsable {

		@UserLock(key = "#uid +")
		public void redeem(String uid) {
		}

	}

	public static class UnknownParameter {

		@UserLock(key = "#user")
		public void redeem(String uid, long amount) {
		}

	}

	public static class PositionBeyondArity {

		@UserLock(key = { "#p0", "#p1" })
		public void redeem(String uid) {
		}

	}

	public static class BlankExpression {

		@UserLock(key = " ")
		public void redeem(String uid) {
		}

	}

	public static class BadDuration {

		@UserLock(key = "#uid", waitTime = "2 seconds")
		public void redeem(String uid) {
		}

	}

	public static class BadPlaceholderDuration {

		@UserLock(key = "#uid", leaseTime = "${bad.duration}")
		public void redeem(String uid) {
		}

	}

	public static class UnresolvablePlaceholder {

		@UserLock(key = "#uid", holdAtLeast = "${missing.duration}")
		public void redeem(String uid) {
		}

	}

	public static class BadName {

		@UserLock(key = "#uid", name = "a:b")
		public void redeem(String uid) {
		}

	}

	public static class ZeroLease {

		@UserLock(key = "#uid", leaseTime = "0")
		public void redeem(String uid) {
		}

	}

	public static class UnsupportedPublisher {

		@UserLock(key = "#uid")
		public CustomPublisher redeem(String uid) {
			return new CustomPublisher();
		}

	}

	public static class CustomPublisher implements Publisher<String> {

		@Override
		public void subscribe(Subscriber<? super String> subscriber) {
		}

	}

	public interface Redeeming {

		@UserLock(key = "#nobody")
		void redeem(String uid);

	}

	public static class Implementation implements Redeeming {

		@Override
		public void redeem(String uid) {
		}

	}

	public static class Valid {

		@UserLock(key = { "#uid", "#p0", "#a1", "#root.methodName", "#root.target.class.simpleName" },
				waitTime = "${good.duration}", leaseTime = "PT1M", holdAtLeast = "2s", name = "orders.v1")
		public void redeem(String uid, long amount) {
		}

	}

}
