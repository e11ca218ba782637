package io.github.userlock.redis;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Random 128-bit owner tokens (32 hex characters), the value of a lock key: only the
 * holder knows its token, and every release and renewal compares it.
 */
final class OwnerTokens {

	static final int LENGTH = 32;

	private static final int BYTES = LENGTH / 2;

	/** Tokens drawn from a generator at once: its per-call work is shared by them. */
	private static final int TOKENS_PER_DRAW = 16;

	/**
	 * A few DRBGs shared by all threads (picked by thread id), so that a virtual thread
	 * per call does not seed a generator of its own, and tokens are unguessable without
	 * the global lock and the read of /dev/urandom that the platform default (NativePRNG)
	 * takes on every call.
	 */
	private static final Source[] SOURCES = newSources(
			Integer.highestOneBit(Math.max(1, Runtime.getRuntime().availableProcessors()) * 2 - 1) * 2);

	private OwnerTokens() {
	}

	/**
	 * Loads this class, which seeds the generators: called when a registry is built, so
	 * that the first acquire, perhaps on an event loop, does not read the entropy source.
	 */
	static void seed() {
		// the class initializer did the work
	}

	@SuppressWarnings("deprecation") // Thread.getId(): threadId() is Java 19+
	static String next() {
		byte[] bytes = new byte[BYTES];
		long id = Thread.currentThread().getId();
		SOURCES[(int) (id ^ (id >>> 32)) & (SOURCES.length - 1)].take(bytes);
		return HexFormat.of().formatHex(bytes);
	}

	private static Source[] newSources(int count) {
		Source[] sources = new Source[count];
		for (int i = 0; i < count; i++) {
			SecureRandom random;
			try {
				random = SecureRandom.getInstance("DRBG");
			}
			catch (NoSuchAlgorithmException ex) {
				random = new SecureRandom();
			}
			// seeded (by its first draw) when the class loads (see seed()), not by the
			// first acquire on an event loop: seeding reads the entropy source, a
			// blocking file read
			sources[i] = new Source(random);
		}
		return sources;
	}

	/**
	 * One generator and the random bytes of its last draw, handed out once each: a draw
	 * of {@value #TOKENS_PER_DRAW} tokens costs the DRBG's per-call work (its state
	 * update) once instead of per token.
	 */
	private static final class Source {

		private final SecureRandom random;

		private final byte[] drawn = new byte[TOKENS_PER_DRAW * BYTES];

		private int next;

		Source(SecureRandom random) {
			this.random = random;
			random.nextBytes(this.drawn);
		}

		synchronized void take(byte[] into) {
			if (this.next + into.length > this.drawn.length) {
				this.random.nextBytes(this.drawn);
				this.next = 0;
			}
			System.arraycopy(this.drawn, this.next, into, 0, into.length);
			// a token handed out is not kept here
			Arrays.fill(this.drawn, this.next, this.next + into.length, (byte) 0);
			this.next += into.length;
		}

	}

}
