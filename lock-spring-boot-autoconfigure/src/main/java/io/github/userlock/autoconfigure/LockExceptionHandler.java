package io.github.userlock.autoconfigure;

import io.github.userlock.LockConflictException;
import io.github.userlock.LockUnavailableException;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * Turns lock exceptions that reach a Spring MVC or WebFlux controller into RFC 9457
 * problem details: {@link LockConflictException} into {@code 409 Conflict} with a
 * {@code Retry-After} header, and {@link LockUnavailableException} into
 * {@code 503 Service Unavailable}. It has the lowest precedence, so an
 * {@code @ExceptionHandler} of the application for these exceptions wins. The responses
 * name no lock key: keys are often user ids and internal names.
 */
@RestControllerAdvice
@Order(Ordered.LOWEST_PRECEDENCE)
public class LockExceptionHandler {

	/**
	 * Creates the handler; the auto-configuration does in a Spring MVC or WebFlux
	 * application.
	 */
	public LockExceptionHandler() {
	}

	/**
	 * {@code 409 Conflict}; {@code Retry-After} is the time the caller waited, rounded
	 * up, at least 1 s.
	 * @param ex the exception thrown by the locked method
	 * @return the {@code 409} response
	 */
	@ExceptionHandler(LockConflictException.class)
	public ResponseEntity<ProblemDetail> handleConflict(LockConflictException ex) {
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.CONFLICT,
				"Another request for the same resource is in progress. Retry later.");
		long waitedMillis = ex.getWaited().toMillis();
		long retryAfterSeconds = Math.max(1, (waitedMillis + 999) / 1000);
		return ResponseEntity.status(HttpStatus.CONFLICT)
			.header(HttpHeaders.RETRY_AFTER, Long.toString(retryAfterSeconds))
			.contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.body(problem);
	}

	/**
	 * {@code 503 Service Unavailable}: the lock store could not be reached, so the
	 * request did not run.
	 * @param ex the exception thrown by the locked method
	 * @return the {@code 503} response
	 */
	@ExceptionHandler(LockUnavailableException.class)
	public ResponseEntity<ProblemDetail> handleUnavailable(LockUnavailableException ex) {
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE,
				"The lock service is unavailable, so the request was not run. Retry later.");
		return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
			.contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.body(problem);
	}

}
