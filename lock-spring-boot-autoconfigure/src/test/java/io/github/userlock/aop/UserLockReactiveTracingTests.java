package io.github.userlock.aop;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import io.github.userlock.LockHandle;
import io.github.userlock.LockRegistry;
import io.github.userlock.UserLock;
import io.github.userlock.autoconfigure.LockAutoConfiguration;
import io.github.userlock.autoconfigure.LockMetricsAutoConfiguration;
import io.github.userlock.autoconfigure.LockObserverAutoConfiguration;
import io.github.userlock.test.BootRedis;
import io.github.userlock.test.RedisServerExtension;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.test.simple.SimpleSpan;
import io.micrometer.tracing.test.simple.SimpleTracer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A trace continues across a reactive {@code @UserLock} method whose lock is granted on
 * another thread: with Micrometer Tracing (its test tracer) behind the application's
 * {@code ObservationRegistry} and Reactor's automatic context propagation, the method
 * runs in the caller's trace, inside the {@code lock.call} span, and the lock's spans
 * belong to that trace.
 */
@Timeout(60)
class UserLockReactiveTracingTests {

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension();

	private ApplicationContextRunner instance() {
		return new ApplicationContextRunner()
			.withConfiguration(BootRedis.with(LockAutoConfiguration.class, LockObserverAutoConfiguration.class,
					LockMetricsAutoConfiguration.class))
			.withPropertyValues("spring.data.redis.host=" + redis.server().host(),
					"spring.data.redis.port=" + redis.server().port(), "lock.wait-time=30s")
			.withUserConfiguration(Config.class);
	}

	@Test
	void theCallersTraceContinuesInsideTheLockedMethod() {
		instance().run((context) -> {
			SimpleTracer tracer = context.getBean(SimpleTracer.class);
			ObservationRegistry observations = context.getBean(ObservationRegistry.class);
			Traced traced = context.getBean(Traced.class);
			LockRegistry registry = context.getBean(LockRegistry.class);
			Hooks.enableAutomaticContextPropagation();
			try {
				LockHandle holder = registry.acquire("traced-user", Duration.ofSeconds(5));
				Observation request = Observation.start("http.request", observations);
				CompletableFuture<Span> inside;
				String requestTrace;
				try (Observation.Scope scope = request.openScope()) {
					requestTrace = tracer.currentSpan().context().traceId();
					// as a WebFlux server does, the caller's observation goes into the
					// Reactor Context
					inside = traced.currentSpan("traced-user")
						.subscribeOn(Schedulers.parallel())
						.contextCapture()
						.toFuture();
				}
				// the lock is granted later, on a thread of the registry, after the
				// release
				assertThat(inside).isNotDone();
				holder.release();
				Span span = inside.get(10, TimeUnit.SECONDS);
				request.stop();

				assertThat(span).as("a current span inside the locked method").isNotNull();
				assertThat(span.context().traceId()).isEqualTo(requestTrace);
				List<SimpleSpan> spans = List.copyOf(tracer.getSpans());
				// the request's trace: the request, the lock call in it, the acquire in
				// that
				// (found by their tags: span names are spelt differently across
				// Micrometer
				// Tracing versions)
				SimpleSpan http = only(spans, requestTrace, "the request", (tags) -> tags.isEmpty());
				SimpleSpan call = only(spans, requestTrace, "lock.call",
						(tags) -> "Traced.currentSpan".equals(tags.get("method")));
				SimpleSpan acquire = only(spans, requestTrace, "lock.acquire",
						(tags) -> "acquired".equals(tags.get("outcome")) && !tags.containsKey("method"));
				assertThat(call.getParentId()).isEqualTo(http.getSpanId());
				assertThat(acquire.getParentId()).isEqualTo(call.getSpanId());
				assertThat(span.context().spanId()).as("the method runs inside lock.call").isEqualTo(call.getSpanId());
			}
			finally {
				Hooks.disableAutomaticContextPropagation();
			}
		});
	}

	private static SimpleSpan only(List<SimpleSpan> spans, String traceId, String what,
			Predicate<Map<String, String>> tags) {
		List<SimpleSpan> named = spans.stream()
			.filter((span) -> traceId.equals(span.getTraceId()) && tags.test(span.getTags()))
			.toList();
		assertThat(named).as("spans of " + what + " in trace " + traceId + " among " + spans).hasSize(1);
		return named.get(0);
	}

	@Configuration(proxyBeanMethods = false)
	static class Config {

		@Bean
		SimpleTracer tracer() {
			return new SimpleTracer();
		}

		@Bean
		MeterRegistry meterRegistry() {
			return new SimpleMeterRegistry();
		}

		@Bean
		ObservationRegistry observationRegistry(SimpleTracer tracer) {
			ObservationRegistry registry = ObservationRegistry.create();
			registry.observationConfig().observationHandler(new DefaultTracingObservationHandler(tracer));
			return registry;
		}

		@Bean
		Traced traced(SimpleTracer tracer) {
			return new Traced(tracer);
		}

	}

	static class Traced {

		private final SimpleTracer tracer;

		Traced(SimpleTracer tracer) {
			this.tracer = tracer;
		}

		@UserLock(key = "#user")
		public Mono<Span> currentSpan(String user) {
			return Mono.fromSupplier(this.tracer::currentSpan);
		}

	}

}
