package io.github.userlock.redis;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import io.github.userlock.LockUnavailableException;
import io.lettuce.core.api.async.BaseRedisAsyncCommands;
import org.jspecify.annotations.Nullable;

/**
 * The opt-in replica acknowledgement of an acquire ({@code lock.redis.min-replicas}):
 * {@code WAIT <min-replicas> <replica-timeout>} is written right behind the acquire
 * script, in the same write, and an acquisition fewer replicas acknowledged is undone and
 * reported as {@link LockUnavailableException} naming the setting.
 *
 * <p>
 * What it narrows: a failover that promotes a replica which never received a lock just
 * taken. What it does not: {@code WAIT} only counts replicas that received the write; it
 * does not make a replica that missed a later renewal or a release ineligible for
 * promotion, and a replica that acknowledged may still lose the write if it restarts
 * without persistence. Fencing tokens remain the defence that holds.
 */
final class ReplicaAcknowledgement {

	private final int minReplicas;

	private final long timeoutMillis;

	ReplicaAcknowledgement(int minReplicas, Duration timeout) {
		this.minReplicas = minReplicas;
		this.timeoutMillis = Math.max(1, timeout.toMillis());
	}

	/** The WAIT of one acquire attempt, sent again behind an EVAL fallback. */
	Pending pending() {
		return new Pending();
	}

	/**
	 * Why an acquisition that {@code acknowledged} replicas acknowledged does not count,
	 * or {@code null} if enough did.
	 */
	@Nullable LockUnavailableException check(String key, long acknowledged) {
		if (acknowledged >= this.minReplicas) {
			return null;
		}
		return new LockUnavailableException(key,
				"Lock '" + key + "' was acquired, but only " + acknowledged + " of " + this.minReplicas
						+ " replicas acknowledged it within " + this.timeoutMillis
						+ " ms (lock.redis.min-replicas, lock.redis.replica-timeout); it was released again",
				null);
	}

	/** The WAIT written behind one acquire attempt (the last one, after a fallback). */
	final class Pending {

		private volatile @Nullable CompletableFuture<Long> answer;

		private Pending() {
		}

		/** Writes WAIT on {@code commands}, right behind the command just issued. */
		void writeWait(BaseRedisAsyncCommands<String, String> commands) {
			this.answer = commands
				.waitForReplication(ReplicaAcknowledgement.this.minReplicas, ReplicaAcknowledgement.this.timeoutMillis)
				.toCompletableFuture();
		}

		/** The number of replicas that acknowledged, when the WAIT answers. */
		CompletableFuture<Long> answer() {
			CompletableFuture<Long> current = this.answer;
			return (current != null) ? current
					: CompletableFuture.failedFuture(new IllegalStateException("WAIT was not sent"));
		}

	}

}
