package io.github.userlock.sample;

import io.github.userlock.UserLock;

import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import org.springframework.web.server.ResponseStatusException;

/**
 * The wallet. Each update is a plain {@code GET}, a pause ({@code sample.work-delay}, standing for real
 * work: a call to another service, a database transaction), then a {@code SET}. Nothing in Redis makes that
 * sequence atomic; only {@link UserLock @UserLock} keeps two concurrent updates of one user, on this
 * instance or another, from reading the same balance and one of them overwriting the other.
 */
@Service
class PointsService {

	private final StringRedisTemplate redis;

	private final SampleProperties properties;

	PointsService(StringRedisTemplate redis, SampleProperties properties) {
		this.redis = redis;
		this.properties = properties;
	}

	/** The balance of {@code uid}, 0 for a user never seen. */
	Balance balance(String uid) {
		return new Balance(uid, read(uid));
	}

	/** Adds {@code amount} points to the balance of {@code uid}. */
	@UserLock(key = "#uid")
	public Balance grant(String uid, long amount) {
		long balance = read(uid);
		pause();
		long updated;
		try {
			updated = Math.addExact(balance, amount);
		}
		catch (ArithmeticException ex) {
			throw new ResponseStatusException(HttpStatus.UNPROCESSABLE_ENTITY,
					"Cannot grant " + amount + " points: the balance would exceed " + Long.MAX_VALUE);
		}
		write(uid, updated);
		return new Balance(uid, updated);
	}

	/**
	 * Takes {@code amount} points from the balance of {@code uid}.
	 * @throws InsufficientPointsException if the balance is smaller than {@code amount}
	 */
	@UserLock(key = "#uid")
	public Balance redeem(String uid, long amount) {
		long balance = read(uid);
		pause();
		if (balance < amount) {
			throw new InsufficientPointsException(balance, amount);
		}
		long updated = balance - amount;
		write(uid, updated);
		return new Balance(uid, updated);
	}

	private long read(String uid) {
		String value = this.redis.opsForValue().get(key(uid));
		return (value != null) ? Long.parseLong(value) : 0;
	}

	private void write(String uid, long balance) {
		this.redis.opsForValue().set(key(uid), Long.toString(balance));
	}

	private void pause() {
		if (this.properties.workDelay().isZero()) {
			return;
		}
		try {
			Thread.sleep(this.properties.workDelay().toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while updating a balance; nothing was written", ex);
		}
	}

	static String key(String uid) {
		return "points:" + uid;
	}

}
