package io.github.userlock.benchmarks;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The newest Spring Integration loads in its own class loader, apart from the version on
 * the benchmark's class path (no Redis needed).
 */
@Timeout(30)
class IsolatedSpringIntegrationTests {

	@Test
	void loadsTheNewestNextToTheManagedVersion() throws Exception {
		assertThat(IsolatedSpringIntegration.version()).startsWith("7.1.");
		assertThat(SpringIntegrationInstance.version()).startsWith("7.0.");
		Class<?> isolated = Class.forName(IsolatedSpringIntegration.INSTANCE_CLASS, false,
				IsolatedSpringIntegration.classLoader());
		assertThat(isolated).isNotSameAs(SpringIntegrationInstance.class);
	}

}
