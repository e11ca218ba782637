package io.github.userlock.sample;

/**
 * A user's balance, as answered by every endpoint: {@code {"uid": "...", "balance": N}}.
 * @param uid the user id
 * @param balance the points the user has, never negative
 */
record Balance(String uid, long balance) {
}
