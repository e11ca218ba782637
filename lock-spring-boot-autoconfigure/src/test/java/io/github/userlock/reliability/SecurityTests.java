package io.github.userlock.reliability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import io.github.userlock.LockException;
import io.github.userlock.LockHandle;
import io.github.userlock.LockRequest;
import io.github.userlock.LockUnavailableException;
import io.github.userlock.redis.RedisLockRegistry;
import io.github.userlock.test.Failures;
import io.github.userlock.test.RedisServerExtension;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.IntegerOutput;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * The engine against a redis-server that requires a password and has an ACL user limited
 * to the lock's keys, channel and commands; what is logged.
 */
@Timeout(120)
class SecurityTests {

	/** The commands the engine needs; each one is shown necessary below. */
	static final List<String> COMMANDS = List.of("evalsha", "eval", "subscribe", "set", "get", "setrange", "pttl",
			"pexpire", "del", "incrby", "time", "publish");

	/**
	 * The minimal ACL rule for the default key prefix {@code user-lock:} (documented in
	 * RELIABILITY.md).
	 */
	static final String MINIMAL_RULE = "on >app-secret resetchannels ~user-lock:* &user-lock:* -@all +"
			+ String.join(" +", COMMANDS);

	@RegisterExtension
	static final RedisServerExtension redis = new RedisServerExtension().withPassword("admin-secret")
		.withAclUser("app " + MINIMAL_RULE);

	private final List<RedisLockRegistry> registries = new ArrayList<>();

	@AfterEach
	void close() {
		this.registries.forEach(RedisLockRegistry::close);
	}

	private RedisLockRegistry registry(RedisURI uri, Duration lease) {
		RedisLockRegistry registry = RedisLockRegistry.builder(redis.newClient(uri))
			.defaultLeaseTime(lease)
			.commandTimeout(Duration.ofSeconds(1))
			.recheckInterval(Duration.ofSeconds(30))
			// releases answered before release() returns: the scenario checks what each
			// one left in Redis right after it
			.awaitRelease(true)
			.build();
		this.registries.add(registry);
		return registry;
	}

	private static RedisURI as(String user, String password) {
		return RedisURI.builder()
			.withHost(redis.server().host())
			.withPort(redis.server().port())
			.withAuthentication(user, password)
			.build();
	}

	@Test
	void theEngineWorksWithOnlyTheMinimalAclRule() throws Exception {
		assertThat(scenario(as("app", "app-secret"))).isNull();
	}

	@Test
	void theEngineWorksWithRequirepass() throws Exception {
		assertThat(credentials(redis.server().redisUri()).hasPassword()).isTrue();
		assertThat(scenario(redis.server().redisUri())).isNull();
	}

	@Test
	void everyCommandOfTheMinimalRuleIsNeeded() throws Exception {
		RedisCommands<String, String> admin = redis.server().admin((c) -> c);
		Map<String, String> failures = new LinkedHashMap<>();
		try {
			for (String command : COMMANDS) {
				setUser(admin, "app2",
						String.join(" ",
								java.util.Arrays.stream(MINIMAL_RULE.split(" "))
									.filter((part) -> !part.equals("+" + command))
									.toList()));
				failures.put(command, scenario(as("app2", "app-secret")));
				this.registries.forEach(RedisLockRegistry::close);
				this.registries.clear();
				redis.server().flushAll();
			}
		}
		finally {
			admin.dispatch(CommandType.ACL, new IntegerOutput<>(StringCodec.UTF8),
					new CommandArgs<>(StringCodec.UTF8).add("DELUSER").add("app2"));
		}
		failures
			.forEach((command, failure) -> System.out.println("RELIABILITY acl without +" + command + ": " + failure));
		assertThat(failures)
			.allSatisfy((command, failure) -> assertThat(failure).as("without +" + command).isNotNull());
	}

	@Test
	void aKeyOutsideThePrefixIsRefusedByRedisNotLocked() {
		RedisLockRegistry other = RedisLockRegistry.builder(redis.newClient(as("app", "app-secret")))
			.keyPrefix("other-lock:")
			.commandTimeout(Duration.ofSeconds(1))
			.build();
		this.registries.add(other);
		assertThatExceptionOfType(LockUnavailableException.class).isThrownBy(() -> other.tryAcquire("k"))
			.withMessageContaining("NOPERM");
	}

	private static List<RedisURI> wrongCredentials() {
		return List.of(as("app", "wrong-secret"), as("nobody", "app-secret"),
				RedisURI.builder()
					.withHost(redis.server().host())
					.withPort(redis.server().port())
					.withPassword("wrong-admin".toCharArray())
					.build(),
				RedisURI.create(redis.server().uri()));
	}

	@Test
	void wrongCredentialsFailFastWithLockUnavailableAndNoSecretInTheError() {
		for (RedisURI uri : wrongCredentials()) {
			RedisLockRegistry registry = registry(uri, Duration.ofSeconds(5));
			long start = System.nanoTime();
			assertThatExceptionOfType(LockUnavailableException.class).isThrownBy(() -> registry.tryAcquire("k"))
				.satisfies((ex) -> assertThat(Failures.messages(ex)).doesNotContain("secret", "wrong-admin")
					.contains("Unable to connect"))
				// when the server's reason reached the client, the message names it
				.satisfies((ex) -> {
					if (Failures.messages(ex).contains("WRONGPASS") || Failures.messages(ex).contains("NOAUTH")) {
						assertThat(ex.getMessage()).containsAnyOf("WRONGPASS", "NOAUTH");
					}
				})
				.satisfies((ex) -> System.out.println("RELIABILITY wrong credentials " + credentials(uri).getUsername()
						+ " causes: " + Failures.messages(ex).replace('\n', '|')));
			long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
			System.out.println("RELIABILITY wrong credentials " + credentials(uri).getUsername() + ": failed in "
					+ tookMillis + " ms");
			assertThat(tookMillis).as("ms until the failure").isLessThan(1500);
		}
	}

	@Test
	void ownerTokensAreRandom128BitValuesThatNothingLogs() throws Exception {
		Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
		Logger engine = (Logger) LoggerFactory.getLogger("io.github.userlock");
		Level previous = engine.getLevel();
		Level previousRoot = root.getLevel();
		root.setLevel(Level.DEBUG);
		ListAppender<ILoggingEvent> appender = new ListAppender<>();
		appender.start();
		root.addAppender(appender);
		engine.setLevel(Level.TRACE);
		Set<String> owners = new TreeSet<>();
		List<String> messages = new ArrayList<>();
		try {
			RedisURI uri = as("app", "app-secret");
			RedisLockRegistry registry = registry(uri, Duration.ofMillis(300));
			RedisLockRegistry rival = registry(uri, Duration.ofMillis(300));
			RedisCommands<String, String> admin = redis.server().admin((c) -> c);
			for (int i = 0; i < 200; i++) {
				try (LockHandle handle = registry.acquire(LockRequest.of("owner-" + (i % 7)))) {
					owners.add(owner(admin));
					rival.tryAcquire("owner-" + (i % 7)).ifPresent((h) -> {
						throw new AssertionError("acquired twice");
					});
				}
			}
			// lost while held and lost before release both log a WARN
			LockHandle lapsing = registry.acquire(LockRequest.of("lapsing").withLeaseTime(Duration.ofMillis(300)));
			owners.add(owner(admin));
			redis.server().admin((c) -> c.del(c.keys("user-lock:{*}:lapsing").get(0)));
			LockHandle taker = rival.acquire("lapsing", Duration.ofSeconds(5));
			await().atMost(Duration.ofSeconds(5)).until(() -> !lapsing.isHeld());
			lapsing.release();
			taker.release();
			try {
				rival.acquire("owner-0", Duration.ofMillis(1));
				registry.acquire("owner-0", Duration.ofMillis(1));
			}
			catch (LockException ex) {
				messages.add(String.valueOf(ex.getMessage()));
			}
		}
		finally {
			engine.setLevel(previous);
			root.setLevel(previousRoot);
			root.detachAppender(appender);
		}
		assertThat(owners).hasSize(201).allMatch((owner) -> owner.matches("[0-9a-f]{32}"));
		int[] ones = new int[128];
		for (String owner : owners) {
			byte[] bytes = HexFormat.of().parseHex(owner);
			for (int bit = 0; bit < 128; bit++) {
				ones[bit] += (bytes[bit / 8] >> (bit % 8)) & 1;
			}
		}
		// each of the 128 bits varies: about half of the owners have it set (7 standard
		// deviations)
		assertThat(java.util.Arrays.stream(ones).boxed().toList()).allMatch((n) -> n > 50 && n < 151);
		List<String> engineLog = new ArrayList<>();
		List<String> allLog = new ArrayList<>();
		for (ILoggingEvent event : appender.list) {
			StringBuilder text = new StringBuilder(event.getFormattedMessage());
			for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
				text.append(' ').append(t.getMessage());
			}
			allLog.add(text.toString());
			if (event.getLoggerName().startsWith("io.github.userlock")) {
				engineLog.add(text.toString());
			}
		}
		assertThat(engineLog).as("the engine logged the losses").anyMatch((line) -> line.contains("lost"));
		long leaking = allLog.stream().filter((line) -> owners.stream().anyMatch(line::contains)).count();
		System.out.println("RELIABILITY logging: engine events=" + engineLog.size() + ", all events=" + allLog.size()
				+ ", events containing an owner token=" + leaking);
		for (String owner : owners) {
			assertThat(engineLog).noneMatch((line) -> line.contains(owner));
			assertThat(messages).noneMatch((line) -> line.contains(owner));
			assertThat(allLog).noneMatch((line) -> line.contains(owner) || line.contains("app-secret"));
		}
	}

	private static String owner(RedisCommands<String, String> admin) {
		List<String> keys = admin.keys("user-lock:{*}:*");
		assertThat(keys).hasSize(1);
		return admin.get(keys.get(0)).substring(0, 32);
	}

	private static void setUser(RedisCommands<String, String> admin, String user, String rule) {
		CommandArgs<String, String> args = new CommandArgs<>(StringCodec.UTF8).add("SETUSER").add(user).add("reset");
		for (String part : rule.split(" ")) {
			args.add(part);
		}
		admin.dispatch(CommandType.ACL, new StatusOutput<>(StringCodec.UTF8), args);
	}

	/**
	 * Everything the engine does, as {@code uri}'s user: EVALSHA with the EVAL fallback
	 * (scripts flushed first), acquire, contend, renew past the lease, release that
	 * deletes the key, a wake-up over Pub/Sub (the lease and the recheck interval are
	 * long, so only the wake-up can be quick), release that keeps the key a while.
	 * Returns {@code null} when all worked, else what failed.
	 */
	private String scenario(RedisURI uri) throws Exception {
		RedisCommands<String, String> admin = redis.server().admin((c) -> c);
		admin.scriptFlush();
		Duration lease = Duration.ofMillis(600);
		RedisLockRegistry first = registry(uri, lease);
		RedisLockRegistry second = registry(uri, lease);
		try {
			LockHandle held = first.acquire("renewed", Duration.ofSeconds(2));
			if (second.tryAcquire("renewed").isPresent()) {
				return "acquired twice";
			}
			// held past its lease: only renewals keep it
			await().pollDelay(lease.multipliedBy(2)).atMost(lease.multipliedBy(3)).until(() -> true);
			if (!held.isHeld() || first.lostWhileHeldCount() > 0 || second.tryAcquire("renewed").isPresent()) {
				return "lease not renewed";
			}
			held.release();
			if (!admin.keys("user-lock:{*}:renewed").isEmpty()) {
				return "release left the key in Redis";
			}
			Duration longLease = Duration.ofSeconds(10);
			LockHandle blocking = first.acquire(LockRequest.of("woken").withLeaseTime(longLease));
			CompletableFuture<LockHandle> waiter = CompletableFuture.supplyAsync(() -> second
				.acquire(LockRequest.of("woken").withLeaseTime(longLease).withWaitTime(Duration.ofSeconds(8))));
			// the waiter has tried once and marked the key (its value grows past the
			// 32-character owner)
			await().atMost(Duration.ofSeconds(5))
				.until(() -> admin.keys("user-lock:{*}:woken")
					.stream()
					.anyMatch((k) -> String.valueOf(admin.get(k)).length() > 32));
			long released = System.nanoTime();
			blocking.release();
			LockHandle next = waiter.get(8, TimeUnit.SECONDS);
			long wokenMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - released);
			if (wokenMillis > 1000) {
				return "waiter woken only after " + wokenMillis + " ms";
			}
			if (next.fencingToken() <= blocking.fencingToken()) {
				return "token did not increase";
			}
			next.release(Duration.ofSeconds(5));
			if (admin.keys("user-lock:{*}:woken").isEmpty()) {
				return "release(holdAtLeast) did not keep the key";
			}
			if (first.lostBeforeReleaseCount() + second.lostBeforeReleaseCount() > 0) {
				return "a release found its lock gone";
			}
			return null;
		}
		catch (RuntimeException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException ex) {
			return ex.getClass().getSimpleName() + ": " + ex.getMessage();
		}
	}

	/**
	 * The credentials of {@code uri} (through its credentials provider: Lettuce 7 removed
	 * the deprecated password and user name getters).
	 */
	private static io.lettuce.core.RedisCredentials credentials(io.lettuce.core.RedisURI uri) {
		return uri.getCredentialsProvider().resolveCredentials().block(java.time.Duration.ofSeconds(5));
	}

}
