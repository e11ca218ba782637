package io.github.userlock.benchmarks;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.within;

class MachineCpuTests {

	@Test
	void splitsTheAggregateLineIntoBusyIdleAndSteal() {
		// user nice system idle iowait irq softirq steal guest guest_nice
		MachineCpu cpu = MachineCpu.parse("cpu  100 5 40 800 20 3 2 30 7 0");
		assertThat(cpu.busy()).isEqualTo(100 + 5 + 40 + 3 + 2);
		assertThat(cpu.idle()).isEqualTo(800 + 20);
		assertThat(cpu.steal()).isEqualTo(30);
	}

	@Test
	void fieldsAnOlderKernelLacksCountAsZero() {
		MachineCpu cpu = MachineCpu.parse("cpu 10 0 10 80");
		assertThat(cpu.busy()).isEqualTo(20);
		assertThat(cpu.idle()).isEqualTo(80);
		assertThat(cpu.steal()).isZero();
	}

	@Test
	void sharesAreOverTheIntervalsAdded() {
		MachineCpu first = MachineCpu.ZERO.plusInterval(new MachineCpu(1000, 5000, 10), new MachineCpu(1800, 5200, 10));
		MachineCpu both = first.plusInterval(new MachineCpu(3000, 9000, 50), new MachineCpu(3700, 9200, 150));
		// busy 800 + 700, idle 200 + 200, steal 0 + 100: 2,000 ticks in all
		assertThat(both.idleShare()).isCloseTo(0.2, within(1e-9));
		assertThat(both.stealShare()).isCloseTo(0.05, within(1e-9));
	}

	@Test
	void anUnknownEndLeavesTheSumAsItWas() {
		MachineCpu sum = new MachineCpu(10, 10, 0);
		assertThat(sum.plusInterval(null, new MachineCpu(1, 1, 1))).isSameAs(sum);
		assertThat(MachineCpu.ZERO.idleShare()).isNaN();
	}

	@Test
	void refusesALineThatIsNotTheAggregate() {
		assertThatIllegalArgumentException().isThrownBy(() -> MachineCpu.parse("cpu0 1 2 3 4 5"))
			.withMessageContaining("cpu0 1 2 3 4 5");
	}

}
