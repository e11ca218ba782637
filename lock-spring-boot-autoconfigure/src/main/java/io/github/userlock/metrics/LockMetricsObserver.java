package io.github.userlock.metrics;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

import io.github.userlock.LockRequest;
import io.github.userlock.support.LockGrant;
import io.github.userlock.support.LockObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.LongTaskTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import org.jspecify.annotations.Nullable;

/**
 * Turns a registry's events into meters and observations. Every tag value is bounded: the
 * lock name (the {@code @UserLock} name or request namespace, {@code default} when
 * empty), an outcome or a phase, never the per-user key.
 *
 * <ul>
 * <li>{@code lock.acquire}: an observation (a timer, and a span when tracing is on) per
 * acquire call, tagged {@code lock.name} and {@code outcome}; its duration is the time
 * the caller waited.</li>
 * <li>{@code lock.held}: a long task timer per lock name, the locks this instance holds
 * now and for how long.</li>
 * <li>{@code lock.lost}: a counter tagged {@code lock.name} and {@code phase}
 * ({@code held} or {@code release}).</li>
 * <li>{@code lock.renewals}: locks renewed by the watchdog, tagged {@code outcome}
 * ({@code renewed}, {@code lost}, {@code failed}); {@code lock.renewal.calls}: the Redis
 * calls it made for them.</li>
 * </ul>
 */
public final class LockMetricsObserver implements LockObserver {

	/** The name of the acquire observation and its timer. */
	public static final String ACQUIRE = "lock.acquire";

	/** The long task timer of held locks. */
	public static final String HELD = "lock.held";

	/** The counter of lost locks. */
	public static final String LOST = "lock.lost";

	/** The counter of renewed (or not) locks. */
	public static final String RENEWALS = "lock.renewals";

	/** The counter of the watchdog's renewal calls. */
	public static final String RENEWAL_CALLS = "lock.renewal.calls";

	/** The tag of the lock name. */
	public static final String NAME_TAG = "lock.name";

	/** The tag of an outcome. */
	public static final String OUTCOME_TAG = "outcome";

	/** The tag of a loss's phase. */
	public static final String PHASE_TAG = "phase";

	/** The lock name of requests without a namespace. */
	public static final String DEFAULT_NAME = "default";

	/**
	 * The lock name of a loss whose hold was never seen (a hand-off that was lost before
	 * it was taken up).
	 */
	static final String UNKNOWN_NAME = "unknown";

	private final MeterRegistry meters;

	private final ObservationRegistry observations;

	private final ConcurrentHashMap<String, LongTaskTimer> heldTimers = new ConcurrentHashMap<>();

	private final ConcurrentHashMap<String, Counter> lostHeld = new ConcurrentHashMap<>();

	private final ConcurrentHashMap<String, Counter> lostAtRelease = new ConcurrentHashMap<>();

	private final Counter renewed;

	private final Counter renewalsLost;

	private final Counter renewalsFailed;

	private final Counter renewalCalls;

	/**
	 * Meters in {@code meters}; the acquire observation in {@code observations} (which
	 * makes its timer when it has a meter handler, as Spring Boot's has).
	 * @param meters the registry of the meters
	 * @param observations the registry of the acquire observations
	 */
	public LockMetricsObserver(MeterRegistry meters, ObservationRegistry observations) {
		this.meters = Objects.requireNonNull(meters, "meters");
		this.observations = Objects.requireNonNull(observations, "observations");
		this.renewed = renewalCounter(RenewalOutcome.RENEWED);
		this.renewalsLost = renewalCounter(RenewalOutcome.LOST);
		this.renewalsFailed = renewalCounter(RenewalOutcome.FAILED);
		this.renewalCalls = Counter.builder(RENEWAL_CALLS)
			.description("Redis calls the lock watchdog made to renew leases")
			.register(meters);
	}

	/**
	 * The registry of the {@code lock.acquire} observations.
	 * @return the observation registry
	 */
	public ObservationRegistry observationRegistry() {
		return this.observations;
	}

	/**
	 * The lock name of {@code request}, as tagged: its namespace or {@code default}.
	 * @param request the lock request
	 * @return the namespace, or {@code default} when it is empty
	 */
	public static String lockName(LockRequest request) {
		return request.namespace().isEmpty() ? DEFAULT_NAME : request.namespace();
	}

	@Override
	public Object acquireStarted(LockRequest request) {
		return Observation.createNotStarted(ACQUIRE, this.observations)
			.contextualName("lock acquire")
			.lowCardinalityKeyValue(NAME_TAG, lockName(request))
			.start();
	}

	@Override
	public void acquireFinished(LockRequest request, AcquireOutcome outcome, long waitNanos,
			@Nullable Throwable failure, @Nullable Object context) {
		if (!(context instanceof Observation observation)) {
			return;
		}
		observation.lowCardinalityKeyValue(OUTCOME_TAG, outcome.value());
		if (failure != null && outcome != AcquireOutcome.CONFLICT) {
			observation.error(failure);
		}
		observation.stop();
	}

	@Override
	public Object lockHeld(LockRequest request, LockGrant grant) {
		String name = lockName(request);
		LongTaskTimer timer = this.heldTimers.computeIfAbsent(name,
				(n) -> LongTaskTimer.builder(HELD)
					.description("Locks this instance holds now")
					.tag(NAME_TAG, n)
					.register(this.meters));
		return new Held(name, timer.start());
	}

	@Override
	public void lockReleased(LockGrant grant, @Nullable Object context) {
		if (context instanceof Held held) {
			held.sample.stop();
		}
	}

	@Override
	public void lockLost(LockGrant grant, LossPhase phase, @Nullable Object context) {
		String name = (context instanceof Held held) ? held.name : UNKNOWN_NAME;
		ConcurrentHashMap<String, Counter> counters = (phase == LossPhase.HELD) ? this.lostHeld : this.lostAtRelease;
		counters
			.computeIfAbsent(name,
					(n) -> Counter.builder(LOST)
						.description("Locks found lost: while held, or by their release")
						.tag(NAME_TAG, n)
						.tag(PHASE_TAG, phase.value())
						.register(this.meters))
			.increment();
	}

	@Override
	public void renewalCall(int locks) {
		this.renewalCalls.increment();
	}

	@Override
	public void renewals(RenewalOutcome outcome, int locks) {
		if (locks <= 0) {
			return;
		}
		Counter counter = switch (outcome) {
			case RENEWED -> this.renewed;
			case LOST -> this.renewalsLost;
			case FAILED -> this.renewalsFailed;
		};
		counter.increment(locks);
	}

	private Counter renewalCounter(RenewalOutcome outcome) {
		return Counter.builder(RENEWALS)
			.description("Leases the lock watchdog renewed, found lost, or failed to renew")
			.tag(OUTCOME_TAG, outcome.value())
			.register(this.meters);
	}

	/** What is kept for one hold: its lock name and its sample of {@code lock.held}. */
	private record Held(String name, LongTaskTimer.Sample sample) {
	}

}
