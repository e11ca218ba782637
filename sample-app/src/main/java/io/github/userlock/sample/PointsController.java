package io.github.userlock.sample;

import io.github.userlock.support.LockKeys;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/**
 * The HTTP API of the wallet. Input is checked before anything touches Redis: a non-positive amount is
 * {@code 400} here, a non-numeric or missing one is {@code 400} from Spring MVC, and a uid the lock would
 * refuse (blank, longer than {@code lock.max-key-length}) is {@code 400} as well.
 */
@RestController
@RequestMapping("/users/{uid}/points")
class PointsController {

	private final PointsService points;

	private final int maxUidBytes;

	PointsController(PointsService points, @Value("${lock.max-key-length:512}") int maxUidBytes) {
		this.points = points;
		this.maxUidBytes = maxUidBytes;
	}

	@GetMapping
	Balance balance(@PathVariable String uid) {
		return this.points.balance(checkUid(uid));
	}

	@PostMapping("/grant")
	Balance grant(@PathVariable String uid, @RequestParam long amount) {
		return this.points.grant(checkUid(uid), checkAmount(amount));
	}

	@PostMapping("/redeem")
	Balance redeem(@PathVariable String uid, @RequestParam long amount) {
		return this.points.redeem(checkUid(uid), checkAmount(amount));
	}

	/**
	 * The check {@code @UserLock} applies to its key, done here as well: {@code @UserLock} already refuses
	 * such a uid before any Redis call (an {@code IllegalArgumentException}, answered with 400 by
	 * {@link SampleExceptionHandler}), but the read endpoint is not locked, and with
	 * {@code lock.enabled=false} nothing else would stop a write under {@code "points: "}.
	 */
	private String checkUid(String uid) {
		return LockKeys.validate(uid, this.maxUidBytes);
	}

	private static long checkAmount(long amount) {
		if (amount <= 0) {
			throw new ResponseStatusException(HttpStatus.BAD_REQUEST, "amount must be positive, was " + amount);
		}
		return amount;
	}

}
