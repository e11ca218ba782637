package io.github.userlock.autoconfigure;

import java.lang.reflect.Method;
import java.util.List;

import io.github.userlock.UserLock;
import io.github.userlock.aop.LockKeyResolver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.aot.hint.MemberCategory;
import org.springframework.aot.hint.RuntimeHints;
import org.springframework.aot.hint.RuntimeHintsRegistrar;
import org.springframework.aot.hint.predicate.RuntimeHintsPredicates;
import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;
import org.springframework.core.io.support.SpringFactoriesLoader;

import static org.assertj.core.api.Assertions.assertThat;

/** The hints a native image of an application using the lock needs. */
@Timeout(30)
class LockRuntimeHintsTests {

	private final RuntimeHints hints = new RuntimeHints();

	LockRuntimeHintsTests() {
		new LockRuntimeHints().registerHints(this.hints, getClass().getClassLoader());
	}

	@Test
	void isRegisteredThroughAotFactories() {
		List<RuntimeHintsRegistrar> registrars = SpringFactoriesLoader
			.forResourceLocation("META-INF/spring/aot.factories")
			.load(RuntimeHintsRegistrar.class);
		assertThat(registrars).hasAtLeastOneElementOfType(LockRuntimeHints.class);
	}

	@Test
	void everyLuaScriptOfTheEngineIsAResourceHint() throws Exception {
		Resource[] scripts = new PathMatchingResourcePatternResolver()
			.getResources("classpath*:" + LockRuntimeHints.SCRIPTS);
		assertThat(scripts).extracting(Resource::getFilename).contains("acquire.lua", "release.lua", "renew.lua");
		for (Resource script : scripts) {
			assertThat(
					RuntimeHintsPredicates.resource().forResource("io/github/userlock/redis/" + script.getFilename()))
				.accepts(this.hints);
		}
		assertThat(RuntimeHintsPredicates.resource().forResource("io/github/userlock/redis/other.txt"))
			.rejects(this.hints);
	}

	@Test
	void lockPropertiesCanBeBound() throws Exception {
		Method setter = LockProperties.class.getMethod("setWaitTime", java.time.Duration.class);
		assertThat(RuntimeHintsPredicates.reflection().onMethod(setter)).accepts(this.hints);
		assertThat(RuntimeHintsPredicates.reflection().onType(LockProperties.class)).accepts(this.hints);
	}

	@Test
	void spelRootObjectAndAnnotationAreReflectable() throws Exception {
		assertThat(RuntimeHintsPredicates.reflection()
			.onType(Class.forName("io.github.userlock.aop.LockExpressionRoot"))
			.withMemberCategory(MemberCategory.INVOKE_PUBLIC_METHODS)).accepts(this.hints);
		assertThat(RuntimeHintsPredicates.reflection()
			.onType(UserLock.class)
			.withMemberCategory(MemberCategory.INVOKE_PUBLIC_METHODS)).accepts(this.hints);
		assertThat(RuntimeHintsPredicates.proxies().forInterfaces(UserLock.class)).accepts(this.hints);
		assertThat(RuntimeHintsPredicates.reflection().onType(LockKeyResolver.class)).rejects(this.hints);
	}

	@Test
	void connectionDetailsOfThisBootLineAreCallableByName() {
		Class<?> details = BootRedisConnection.detailsType(getClass().getClassLoader());
		assertThat(details).isNotNull();
		assertThat(RuntimeHintsPredicates.reflection()
			.onType(details)
			.withMemberCategory(MemberCategory.INVOKE_PUBLIC_METHODS)).accepts(this.hints);
		for (Class<?> part : details.getDeclaredClasses()) {
			assertThat(RuntimeHintsPredicates.reflection()
				.onType(part)
				.withMemberCategory(MemberCategory.INVOKE_PUBLIC_METHODS)).as(part.getName()).accepts(this.hints);
		}
	}

}
