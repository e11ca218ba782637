package io.github.userlock.redis;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Random 128-bit owner tokens (32 hex characters), the value of a lock key: only the
 * holder knows its token, and every release and renewal compares it.
 */
final class OwnerTokens {

	static final int LENGTH = 32;

	/**
	 * A few DRBGs shared by all threads (picked by thread id), so that a virtual thread
	 * per call does not seed a generator of its own, and tokens are unguessable without
	 * the global lock and the read of /dev/urandom that the platform default (NativePRNG)
	 * takes on every call.
	 */
	private static final SecureRandom[] RANDOMS = newRandoms(
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
		byte[] bytes = new byte[LENGTH / 2];
		long id = Thread.currentThread().getId();
		RANDOMS[(int) (id ^ (id >>> 32)) & (RANDOMS.length - 1)].nextBytes(bytes);
		return HexFormat.of().formatHex(bytes);
	}

	private static SecureRandom[] newRandoms(int count) {
		SecureRandom[] randoms = new SecureRandom[count];
		for (int i = 0; i < count; i++) {
			try {
				randoms[i] = SecureRandom.getInstance("DRBG");
			}
			catch (NoSuchAlgorithmException ex) {
				randoms[i] = new SecureRandom();
			}
			// seeded when the class loads (see seed()), not by the first acquire on an
			// event loop: seeding reads the entropy source, a blocking file read
			randoms[i].nextBytes(new byte[1]);
		}
		return randoms;
	}

}
