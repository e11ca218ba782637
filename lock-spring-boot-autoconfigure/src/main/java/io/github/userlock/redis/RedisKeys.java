package io.github.userlock.redis;

/**
 * The names of a registry's Redis keys. A lock is
 * {@code <prefix>[<namespace>:]{<bucket>}:<key>}; the bucket (one of {@value #BUCKETS})
 * is the Redis Cluster hash tag, so the lock key and its bucket's fencing counter
 * {@code <prefix>{<bucket>}} are always in one slot while locks still spread over every
 * master.
 */
final class RedisKeys {

	/**
	 * Fencing counters and slot buckets: a constant number of extra keys, however many
	 * keys are locked.
	 */
	static final int BUCKETS = 1024;

	private final String prefix;

	RedisKeys(String prefix) {
		this.prefix = prefix;
	}

	String prefix() {
		return this.prefix;
	}

	/** The lock key of {@code key} in {@code namespace}. */
	String storeKey(String namespace, String key) {
		int h = namespace.hashCode() * 31 + key.hashCode();
		int bucket = (h ^ (h >>> 16)) & (BUCKETS - 1);
		StringBuilder sb = new StringBuilder(this.prefix.length() + namespace.length() + key.length() + 8);
		sb.append(this.prefix);
		if (!namespace.isEmpty()) {
			sb.append(namespace).append(':');
		}
		return sb.append('{').append(bucket).append("}:").append(key).toString();
	}

	/**
	 * The fencing counter in the same slot as {@code storeKey}:
	 * {@code <prefix>{<bucket>}}.
	 */
	String fenceKey(String storeKey) {
		int open = storeKey.indexOf('{', this.prefix.length());
		int close = storeKey.indexOf('}', open);
		return this.prefix + storeKey.substring(open, close + 1);
	}

}
