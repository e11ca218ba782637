package io.github.userlock.aop;

import java.lang.reflect.Method;
import java.util.List;

import io.github.userlock.UserLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.aot.generate.ClassNameGenerator;
import org.springframework.aot.generate.DefaultGenerationContext;
import org.springframework.aot.generate.InMemoryGeneratedFiles;
import org.springframework.aot.hint.ExecutableHint;
import org.springframework.aot.hint.predicate.RuntimeHintsPredicates;
import org.springframework.beans.factory.aot.BeanRegistrationAotContribution;
import org.springframework.beans.factory.aot.BeanRegistrationAotProcessor;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.beans.factory.support.RegisteredBean;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.core.io.support.SpringFactoriesLoader;
import org.springframework.javapoet.ClassName;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code @UserLock} methods are registered for introspection at AOT processing time. */
@Timeout(30)
class UserLockBeanRegistrationAotProcessorTests {

	@Test
	void isRegisteredThroughAotFactories() {
		List<BeanRegistrationAotProcessor> processors = SpringFactoriesLoader
			.forResourceLocation("META-INF/spring/aot.factories")
			.load(BeanRegistrationAotProcessor.class);
		assertThat(processors).hasAtLeastOneElementOfType(UserLockBeanRegistrationAotProcessor.class);
	}

	@Test
	void registersTheLockedMethodsOfABeanAndOnlyThem() throws Exception {
		DefaultGenerationContext generation = process(Wallet.class);
		Method redeem = Wallet.class.getMethod("redeem", String.class, long.class);
		Method viaInterface = Accounts.class.getMethod("close", String.class);
		assertThat(RuntimeHintsPredicates.reflection().onMethod(redeem).introspect())
			.accepts(generation.getRuntimeHints());
		assertThat(RuntimeHintsPredicates.reflection().onMethod(viaInterface).introspect())
			.accepts(generation.getRuntimeHints());
		// only the locked methods: balance() is not registered
		assertThat(generation.getRuntimeHints().reflection().getTypeHint(Wallet.class).methods())
			.extracting(ExecutableHint::getName)
			.containsExactlyInAnyOrder("redeem", "close");
		assertThat(generation.getRuntimeHints().reflection().getTypeHint(Accounts.class).methods())
			.extracting(ExecutableHint::getName)
			.containsExactly("close");
	}

	@Test
	void contributesNothingForABeanWithoutLockedMethods() {
		assertThat(contribution(String.class)).isNull();
	}

	private static DefaultGenerationContext process(Class<?> beanClass) {
		DefaultGenerationContext generation = new DefaultGenerationContext(
				new ClassNameGenerator(ClassName.get("com.example", "Test")), new InMemoryGeneratedFiles());
		BeanRegistrationAotContribution contribution = contribution(beanClass);
		assertThat(contribution).isNotNull();
		contribution.applyTo(generation, null);
		return generation;
	}

	private static BeanRegistrationAotContribution contribution(Class<?> beanClass) {
		DefaultListableBeanFactory beanFactory = new DefaultListableBeanFactory();
		beanFactory.registerBeanDefinition("bean", new RootBeanDefinition(beanClass));
		return new UserLockBeanRegistrationAotProcessor().processAheadOfTime(RegisteredBean.of(beanFactory, "bean"));
	}

	interface Accounts {

		@UserLock(key = "#uid")
		void close(String uid);

	}

	public static class Wallet implements Accounts {

		@UserLock(key = "#uid")
		public long redeem(String uid, long amount) {
			return amount;
		}

		@Override
		public void close(String uid) {
		}

		public long balance(String uid) {
			return 0;
		}

	}

}
