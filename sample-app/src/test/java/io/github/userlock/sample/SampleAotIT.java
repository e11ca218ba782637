package io.github.userlock.sample;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.github.userlock.LockRegistry;
import io.github.userlock.test.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.aot.AotDetector;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sample with the context {@code spring-boot:process-aot} generated, run on the JVM
 * with {@code -Dspring.aot.enabled=true} (failsafe, after the package phase): the lock
 * works there, and the native-image hints generated for it name the locked service, the
 * lock's properties and the engine's scripts.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SampleAotIT {

	@RegisterExtension
	static RedisServerExtension redis = new RedisServerExtension();

	@Test
	void theAotProcessedApplicationLocksAndAnswers() {
		assertThat(AotDetector.useGeneratedArtifacts()).as("spring.aot.enabled").isTrue();
		try (SampleInstance app = SampleInstance.start(redis.server(), "sample.work-delay=10ms")) {
			assertThat(app.context().getBean(LockRegistry.class).getClass().getName())
				.isEqualTo("io.github.userlock.redis.RedisLockRegistry");
			assertThat(app.grant("aot", "100").statusCode()).isEqualTo(200);
			assertThat(SampleInstance.balanceOf(app.redeem("aot", "30"))).isEqualTo(70);
			assertThat(redis.server().keyCount()).as("the balance, and the bucket counter the lock left").isPositive();
		}
	}

	@Test
	void generatedHintsNameTheLockedServiceThePropertiesAndTheScripts() throws IOException {
		Path hints = Path.of("target", "spring-aot", "main", "resources", "META-INF", "native-image");
		String all;
		try (Stream<Path> files = Files.walk(hints)) {
			List<Path> json = files.filter((file) -> file.toString().endsWith(".json")).toList();
			StringBuilder text = new StringBuilder();
			for (Path file : json) {
				text.append(Files.readString(file));
			}
			// JSON may escape '/' as '\\/'; Spring 6 and 7 write different file formats
			all = text.toString().replace("\\", "");
		}
		assertThat(all).contains("\"io.github.userlock.sample.PointsService\"");
		assertThat(all).contains("io/github/userlock/redis");
		assertThat(all).contains("io.github.userlock.autoconfigure.LockProperties");
	}

}
