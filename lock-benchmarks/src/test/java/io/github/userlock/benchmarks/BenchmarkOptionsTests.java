package io.github.userlock.benchmarks;

import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class BenchmarkOptionsTests {

	@Test
	void lockPropertiesAndProfileComeFromTheCommandLine() {
		BenchmarkOptions options = BenchmarkOptions.parse(new String[] { "--lock-property=lock.recheck-interval=500ms",
				"--lock-property=lock.command-timeout=3s", "--profile", "--libs=ours,ours-fast,si71-spin" });
		assertThat(options.lockProperties)
			.isEqualTo(Map.of("lock.recheck-interval", "500ms", "lock.command-timeout", "3s"));
		assertThat(options.profile).isTrue();
		assertThat(options.libraries).containsExactly(Library.OURS, Library.OURS_FAST, Library.SI_NEWEST_SPIN);
	}

	@Test
	void onlyLockPropertiesAreAccepted() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> BenchmarkOptions.parse(new String[] { "--lock-property=spring.data.redis.port=1" }));
	}

	@Test
	void theContractRowAndTheOptInDifferOnlyInAwaitRelease() {
		assertThat(Library.OURS.lockProperties()).isEqualTo(Map.of("lock.await-release", "true"));
		assertThat(Library.OURS_FAST.lockProperties()).isEqualTo(Map.of("lock.await-release", "false"));
		assertThat(Library.OURS_FAST.label()).contains("opt-in");
		assertThat(Library.OURS_BARE.isJudged()).isFalse();
	}

	@Test
	void theFloorRowsRunOnlyWhenNamed() {
		assertThat(BenchmarkOptions.parse(new String[0]).libraries)
			.doesNotContain(Library.LETTUCE_FLOOR, Library.SOCKET_FLOOR)
			.contains(Library.OURS, Library.OURS_FAST, Library.OURS_BARE, Library.SI_NEWEST_SPIN);
		assertThat(BenchmarkOptions.parse(new String[] { "--libs=lettuce-floor,ours" }).libraries)
			.containsExactly(Library.LETTUCE_FLOOR, Library.OURS);
		assertThat(Library.LETTUCE_FLOOR.isJudged()).isFalse();
		assertThat(Library.LETTUCE_FLOOR.isPeer()).isFalse();
		assertThat(Library.SOCKET_FLOOR.isJudged()).isFalse();
		assertThat(Library.SOCKET_FLOOR.isPeer()).isFalse();
	}

}
