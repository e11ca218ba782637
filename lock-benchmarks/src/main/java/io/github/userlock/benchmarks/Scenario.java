package io.github.userlock.benchmarks;

/** The scenarios of the benchmark, in the order of the issue. */
enum Scenario {

	UNCONTENDED("1", "uncontended", "Uncontended (1 instance, 1 thread, fresh key)"),

	MANY_USERS("2", "many-users", "Many users (2 instances x 8 threads, 10,000 keys)"),

	HOT_KEY("3a", "hot-key", "Hot key, empty critical section (4 x 4 threads, 1 key)"),

	HOT_KEY_1MS("3b", "hot-key-1ms", "Hot key, 1 ms hold (4 x 4 threads, 1 key)"),

	BURST("4", "burst", "Duplicate burst (200 tryAcquire on 1 key across 4 instances)"),

	LONG_HOLDS("5", "long-holds", "Long holds (1,000 locks held by 1 instance)");

	private final String number;

	private final String id;

	private final String title;

	Scenario(String number, String id, String title) {
		this.number = number;
		this.id = id;
		this.title = title;
	}

	String number() {
		return this.number;
	}

	String id() {
		return this.id;
	}

	String title() {
		return this.title;
	}

	/**
	 * Whether the scenario is a timed throughput run (table columns ops/s, p50, p99 per
	 * acquire + release).
	 */
	boolean isThroughput() {
		return this == UNCONTENDED || this == MANY_USERS || this == HOT_KEY || this == HOT_KEY_1MS;
	}

	/** Scenarios by command-line id; {@code hot-key} selects both hot-key variants. */
	static boolean selectedBy(Scenario scenario, String id) {
		return scenario.id.equals(id) || scenario.number.equals(id) || (id.equals("hot-key") && scenario == HOT_KEY_1MS)
				|| (id.equals("3") && scenario.number.startsWith("3"));
	}

}
