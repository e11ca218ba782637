package io.github.userlock.reliability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.github.userlock.LockHandle;
import io.github.userlock.LockRequest;
import io.github.userlock.redis.RedisLockRegistry;
import io.github.userlock.test.RedisServerExtension;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.SlotHash;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Keys chosen to break a naive lock: each either locks exactly one Redis key of its own,
 * leaving every other key (locks held by another instance, fencing counters of other
 * buckets, unrelated data) as it was, or is refused with a clear
 * {@link IllegalArgumentException} before anything is sent to Redis.
 */
@Timeout(60)
class HostileKeyTests {

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension();

	private final List<RedisLockRegistry> registries = new ArrayList<>();

	private static final String MEGABYTE = "x".repeat(1024 * 1024);

	/** Keys that must work, each as a distinct lock. */
	static final List<String> ACCEPTED = List.of("a", "A", "a ", " a", "*", "?", "[", "]", "[a-z]", "a*", "\\*",
			"{hash-tag}", "{", "}", "{}", "}{", "a{b}c", "{user-lock:}", "user-lock:{0}", "{0}:a", ":", "::", "a:b",
			"released", "\u0000", "a\u0000b", "a\nb", "\r\na", "\u001b[31m", "\u007f", "用户-42", "Пользователь",
			"مستخدم", "ユーザー", "👤", "e\u0301", "\u00e9", "\ufeffa", "%s", "${user}", "#{1}", "'\"", "null",
			"x".repeat(512), "€".repeat(170));

	@AfterEach
	void close() {
		this.registries.forEach(RedisLockRegistry::close);
	}

	private RedisLockRegistry registry(int maxKeyLength) {
		RedisLockRegistry registry = RedisLockRegistry.builder(redis.newClient())
			.maxKeyLength(maxKeyLength)
			.defaultWaitTime(Duration.ZERO)
			.build();
		this.registries.add(registry);
		return registry;
	}

	@Test
	void everyHostileKeyLocksExactlyOneRedisKeyOfItsOwnAndTouchesNoOther() {
		RedisCommands<String, String> admin = redis.server().admin((c) -> c);
		admin.set("unrelated", "data");
		admin.set("user-lock", "looks like a prefix");
		RedisLockRegistry bystander = registry(512);
		List<LockHandle> bystanders = new ArrayList<>();
		for (String key : List.of("a", "*", "{hash-tag}", "用户-42")) {
			bystanders.add(bystander.acquire(LockRequest.of(key).withNamespace("other")));
		}
		RedisLockRegistry registry = registry(512);
		RedisLockRegistry rival = registry(512);
		Map<String, String> lockKeys = new LinkedHashMap<>();
		List<LockHandle> held = new ArrayList<>();
		for (String key : ACCEPTED) {
			Map<String, String> before = snapshot(admin);
			LockHandle handle = registry.acquire(LockRequest.of(key));
			held.add(handle);
			Map<String, String> after = snapshot(admin);
			Set<String> added = new HashSet<>(after.keySet());
			added.removeAll(before.keySet());
			List<String> newLocks = added.stream().filter((k) -> !isFence(k)).toList();
			assertThat(newLocks).as("lock keys created for %s", printable(key)).hasSize(1);
			String lockKey = newLocks.get(0);
			assertThat(lockKey).startsWith("user-lock:{").endsWith("}:" + key);
			String fence = lockKey.substring(0, lockKey.indexOf('}') + 1);
			assertThat(SlotHash.getSlot(lockKey)).as("same cluster slot as its fencing counter")
				.isEqualTo(SlotHash.getSlot(fence));
			for (Map.Entry<String, String> entry : before.entrySet()) {
				if (!entry.getKey().equals(fence)) {
					assertThat(after.get(entry.getKey())).as("%s after locking %s", entry.getKey(), printable(key))
						.isEqualTo(entry.getValue());
				}
			}
			assertThat(added).as("keys created for %s", printable(key)).isSubsetOf(lockKey, fence);
			lockKeys.put(key, lockKey);
			assertThat(rival.tryAcquire(key)).as("another instance locking %s", printable(key)).isEmpty();
		}
		assertThat(new HashSet<>(lockKeys.values())).as("distinct Redis keys").hasSize(ACCEPTED.size());
		Map<String, String> beforeRelease = snapshot(admin);
		for (LockHandle handle : held) {
			handle.release();
		}
		Map<String, String> expected = new HashMap<>(beforeRelease);
		lockKeys.values().forEach(expected::remove);
		// releases land in Redis shortly after release() returns
		await().atMost(Duration.ofSeconds(5))
			.untilAsserted(() -> assertThat(snapshot(admin)).as("release deletes its own key and nothing else")
				.isEqualTo(expected));
		for (LockHandle handle : bystanders) {
			assertThat(handle.isHeld()).isTrue();
			handle.release();
		}
		assertThat(bystander.lostBeforeReleaseCount()).isZero();
		assertThat(registry.lostBeforeReleaseCount()).isZero();
	}

	@Test
	void badKeysAreRefusedWithAClearMessageAndNothingIsWritten() {
		RedisLockRegistry registry = registry(512);
		Map<String, String> refused = new LinkedHashMap<>();
		refused.put("", "must not be blank");
		refused.put(" ", "must not be blank");
		refused.put("\t\n\r", "must not be blank");
		refused.put("\u2003", "must not be blank");
		refused.put("x".repeat(513), "513 bytes in UTF-8, longer than the maximum of 512 (lock.max-key-length)");
		refused.put("€".repeat(171), "513 bytes in UTF-8");
		refused.put(MEGABYTE, "1048576 bytes in UTF-8");
		refused.put("a\ud800", "unpaired surrogate (U+D800) at index 1");
		refused.put("\udc00b", "unpaired surrogate (U+DC00) at index 0");
		refused.forEach((key, message) -> assertThatIllegalArgumentException()
			.isThrownBy(() -> registry.acquire(LockRequest.of(key)))
			.as(printable(key))
			.withMessageContaining(message)
			.satisfies((ex) -> assertThat(ex.getMessage().length()).isLessThan(200)));
		assertThatIllegalArgumentException().isThrownBy(() -> registry.tryAcquire((String) nullKey()))
			.withMessage("Lock key must not be null");
		assertThat(redis.server().keyCount()).isZero();
	}

	@Test
	void aOneMegabyteKeyWorksWhenTheLimitAllowsIt() {
		RedisLockRegistry registry = registry(2 * 1024 * 1024);
		RedisLockRegistry rival = registry(2 * 1024 * 1024);
		try (LockHandle handle = registry.acquire(LockRequest.of(MEGABYTE))) {
			assertThat(rival.tryAcquire(MEGABYTE)).isEmpty();
			assertThat(rival.tryAcquire(MEGABYTE + "y")).hasValueSatisfying(LockHandle::release);
			assertThat(handle.isHeld()).isTrue();
		}
		LockHandle again = rival.acquire(LockRequest.of(MEGABYTE).withWaitTime(Duration.ofSeconds(5)));
		assertThat(again.isHeld()).isTrue();
		again.release();
	}

	@Test
	void namespacesAndKeysCannotBeCraftedToCollide() {
		RedisLockRegistry registry = registry(512);
		RedisLockRegistry rival = registry(512);
		RedisCommands<String, String> admin = redis.server().admin((c) -> c);
		// a namespace is letters, digits, '.', '_' and '-': it cannot carry ':' or '{' to
		// forge a key
		for (String namespace : List.of("a:b", "a{1}", "{1}", "a b", "a*", "用户", ":")) {
			assertThatIllegalArgumentException().isThrownBy(() -> LockRequest.of("k").withNamespace(namespace))
				.withMessageContaining("may only contain");
		}
		try (LockHandle inNamespace = registry.acquire(LockRequest.of("b").withNamespace("a"))) {
			String lockKey = snapshot(admin).keySet().stream().filter((k) -> !isFence(k)).findFirst().orElseThrow();
			assertThat(lockKey).startsWith("user-lock:a:{");
			// every key that spells the namespace's store key, or parts of it, is a
			// different lock
			String bucket = lockKey.substring("user-lock:a:".length(), lockKey.indexOf('}') + 1);
			for (String forged : List.of("a:b", "a:" + bucket + ":b", lockKey, lockKey.substring("user-lock:".length()),
					bucket + ":b", "a:{0}:b")) {
				try (LockHandle other = rival.acquire(LockRequest.of(forged))) {
					assertThat(other.isHeld()).as(forged).isTrue();
				}
			}
			for (String namespace : List.of("", "a.", "a-", "A", "a_")) {
				try (LockHandle other = rival.acquire(LockRequest.of("b").withNamespace(namespace))) {
					assertThat(other.isHeld()).as(namespace).isTrue();
				}
			}
			assertThat(rival.tryAcquire(LockRequest.of("b").withNamespace("a"))).isEmpty();
			assertThat(inNamespace.isHeld()).isTrue();
		}
		assertThat(registry.lostBeforeReleaseCount() + rival.lostBeforeReleaseCount()).isZero();
	}

	private static Object nullKey() {
		return null;
	}

	private static boolean isFence(String key) {
		return key.startsWith("user-lock:{") && key.endsWith("}") && key.indexOf('}') == key.length() - 1;
	}

	/**
	 * Every key with its value (or type), by SCAN, so that glob characters in keys play
	 * no part.
	 */
	private static Map<String, String> snapshot(RedisCommands<String, String> admin) {
		Map<String, String> all = new HashMap<>();
		ScanCursor cursor = ScanCursor.INITIAL;
		do {
			KeyScanCursor<String> page = admin.scan(cursor, ScanArgs.Builder.limit(1000));
			for (String key : page.getKeys()) {
				all.put(key, admin.get(key));
			}
			cursor = page;
		}
		while (!cursor.isFinished());
		return all;
	}

	private static String printable(String key) {
		StringBuilder sb = new StringBuilder();
		key.codePoints()
			.limit(40)
			.forEach((cp) -> sb.append((cp < 0x20 || cp == 0x7f || cp == 0xfeff) ? String.format("\\u%04x", cp)
					: new String(Character.toChars(cp))));
		return sb + ((key.length() > 40) ? "... (" + key.length() + " chars)" : "");
	}

}
