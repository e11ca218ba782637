package io.github.userlock.sample;

/** A redeem asked for more points than the user has; nothing was written. Answered with 422. */
class InsufficientPointsException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	InsufficientPointsException(long balance, long amount) {
		super("Cannot redeem " + amount + " points: the balance is " + balance);
	}

}
