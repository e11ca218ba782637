package io.github.userlock.benchmarks;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SamplesTests {

	@Test
	void percentilesUseTheNearestRank() {
		Samples samples = new Samples();
		for (int i = 100; i >= 1; i--) {
			samples.add(i);
		}
		assertThat(samples.percentile(50)).isEqualTo(50);
		assertThat(samples.percentile(99)).isEqualTo(99);
		assertThat(samples.max()).isEqualTo(100);
	}

	@Test
	void emptySamplesHaveZeroPercentiles() {
		assertThat(new Samples().percentile(99)).isZero();
	}

	@Test
	void parsesShortDurations() {
		assertThat(BenchmarkOptions.duration("500ms").toMillis()).isEqualTo(500);
		assertThat(BenchmarkOptions.duration("2.5s").toMillis()).isEqualTo(2500);
		assertThat(BenchmarkOptions.duration("1m").toSeconds()).isEqualTo(60);
	}

	@Test
	void quickRunIsShorterButOptionsStillOverrideIt() {
		BenchmarkOptions options = BenchmarkOptions
			.parse(new String[] { "--quick", "--hold=30s", "--libs=redisson,si-spin", "--scenarios=hot-key,5" });
		assertThat(options.iterations).isEqualTo(2);
		assertThat(options.hold.toSeconds()).isEqualTo(30);
		assertThat(options.libraries).containsExactly(Library.REDISSON, Library.SI_SPIN);
		assertThat(options.scenarios).containsExactly(Scenario.HOT_KEY, Scenario.HOT_KEY_1MS, Scenario.LONG_HOLDS);
	}

}
