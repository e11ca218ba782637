package io.github.userlock.sample;

import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.data.redis.RedisSystemException;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/**
 * Problem details ({@code application/problem+json}) for every error of the sample. Spring MVC's own errors
 * (a missing or non-numeric {@code amount}, an unknown path) come from {@link ResponseEntityExceptionHandler};
 * the lock's {@code 409} and {@code 503} come from the starter's handler; this class adds the wallet's
 * {@code 400}, {@code 422} and the {@code 503} of a Redis failure outside the lock (e.g. on the unlocked
 * read).
 */
@RestControllerAdvice
class SampleExceptionHandler extends ResponseEntityExceptionHandler {

	/** A uid that is not a valid lock key; in this application no other request input raises it. */
	@ExceptionHandler(IllegalArgumentException.class)
	ResponseEntity<ProblemDetail> badRequest(IllegalArgumentException ex) {
		return problem(HttpStatus.BAD_REQUEST, "Invalid uid: " + ex.getMessage());
	}

	@ExceptionHandler(InsufficientPointsException.class)
	ResponseEntity<ProblemDetail> insufficientPoints(InsufficientPointsException ex) {
		return problem(HttpStatus.UNPROCESSABLE_ENTITY, ex.getMessage());
	}

	/** Redis refused or timed out a command of the wallet itself (not of the lock): the store is unavailable. */
	@ExceptionHandler({ DataAccessResourceFailureException.class, TransientDataAccessException.class,
			RedisSystemException.class })
	ResponseEntity<ProblemDetail> storeUnavailable(RuntimeException ex) {
		this.logger.warn("Points store unavailable: " + ex);
		return problem(HttpStatus.SERVICE_UNAVAILABLE, "The points store is unavailable. Retry later.");
	}

	private static ResponseEntity<ProblemDetail> problem(HttpStatus status, String detail) {
		return ResponseEntity.status(status)
			.contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.body(ProblemDetail.forStatusAndDetail(status, detail));
	}

}
