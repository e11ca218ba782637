package io.github.userlock.autoconfigure;

import java.time.Duration;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockUnavailableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.WebApplicationContext;
import org.springframework.web.servlet.config.annotation.EnableWebMvc;

import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

/** Lock exceptions reaching a controller become RFC 9457 problem details; the application's handler wins. */
@Timeout(30)
class LockExceptionHandlerTests {

	private final WebApplicationContextRunner runner = new WebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(LockAutoConfiguration.class))
		.withPropertyValues("lock.store=memory")
		.withUserConfiguration(Mvc.class)
		.withBean(Controller.class);

	private static MockMvc mvc(WebApplicationContext context) {
		return MockMvcBuilders.webAppContextSetup(context).build();
	}

	@Test
	void conflictBecomes409ProblemDetailsWithRetryAfter() {
		this.runner.run((context) -> mvc(context).perform(get("/conflict/2500"))
			.andExpect(status().isConflict())
			.andExpect(content().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON))
			.andExpect(header().string("Retry-After", "3"))
			.andExpect(jsonPath("$.status").value(409))
			.andExpect(jsonPath("$.title").value("Conflict"))
			.andExpect(jsonPath("$.detail").exists())
			.andExpect(jsonPath("$.instance").value("/conflict/2500")));
	}

	@Test
	void conflictWithoutWaitingSuggestsRetryingAfterOneSecond() {
		this.runner.run((context) -> mvc(context).perform(get("/conflict/0"))
			.andExpect(status().isConflict())
			.andExpect(header().string("Retry-After", "1")));
	}

	@Test
	void problemDetailsDoNotRevealTheLockKey() {
		this.runner.run((context) -> mvc(context).perform(get("/conflict/0"))
			.andExpect(content().string(org.hamcrest.Matchers.not(org.hamcrest.Matchers.containsString("secret-uid")))));
	}

	@Test
	void unavailableBecomes503ProblemDetails() {
		this.runner.run((context) -> mvc(context).perform(get("/unavailable"))
			.andExpect(status().isServiceUnavailable())
			.andExpect(content().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON))
			.andExpect(jsonPath("$.status").value(503))
			.andExpect(jsonPath("$.title").value("Service Unavailable")));
	}

	@Test
	void applicationExceptionHandlerWins() {
		this.runner.withBean(OwnAdvice.class).run((context) -> mvc(context).perform(get("/conflict/0"))
			.andExpect(status().isTooManyRequests())
			.andExpect(content().string("own handler")));
	}

	@Configuration(proxyBeanMethods = false)
	@EnableWebMvc
	static class Mvc {

	}

	@RestController
	static class Controller {

		@GetMapping("/conflict/{waitedMillis}")
		String conflict(@PathVariable long waitedMillis) {
			throw new LockConflictException("secret-uid", Duration.ofMillis(waitedMillis));
		}

		@GetMapping("/unavailable")
		String unavailable() {
			throw new LockUnavailableException("secret-uid", "Redis is down", null);
		}

	}

	@RestControllerAdvice
	static class OwnAdvice {

		@ExceptionHandler(LockConflictException.class)
		ResponseEntity<String> conflict(LockConflictException ex) {
			return ResponseEntity.status(HttpStatus.TOO_MANY_REQUESTS).body("own handler");
		}

	}

}
