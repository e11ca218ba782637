package io.github.userlock.reliability;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import io.github.userlock.LockHandle;
import io.github.userlock.LockRequest;
import io.github.userlock.redis.RedisLockRegistry;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;

/**
 * The test process itself taking part in the history, as a deterministic successor: same
 * fenced read-modify-write and same log format as {@link LockWorker}, one step at a time.
 */
final class Participant implements AutoCloseable {

	final RedisLockRegistry registry;

	private final RedisCommands<String, String> data;

	private final FileOutputStream log;

	final Path logPath;

	private final long pid = ProcessHandle.current().pid();

	Participant(RedisClient lockClient, RedisClient dataClient, Path logPath, Duration lease) {
		this.registry = RedisLockRegistry.builder(lockClient)
			.defaultLeaseTime(lease)
			.commandTimeout(Duration.ofSeconds(2))
			.build();
		this.data = dataClient.connect().sync();
		this.logPath = logPath;
		try {
			this.log = new FileOutputStream(logPath.toFile(), true);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/**
	 * A lock taken and its fenced read done: the token is registered, older holders'
	 * writes are refused.
	 */
	record Held(LockHandle handle, String key, long token, long acquiredAt, long value) {
	}

	Held take(String key, Duration wait) {
		LockHandle handle = this.registry.acquire(LockRequest.of(key).withWaitTime(wait));
		long acquiredAt = LockWorker.micros();
		boolean valid = handle.isHeld();
		long token = handle.fencingToken();
		line("A\t" + key + "\t" + token + "\t" + acquiredAt + "\t" + (valid ? 1 : 0) + "\t" + this.pid + "\t-1");
		Long value = this.data.eval(LockWorker.FENCED_READ, ScriptOutputType.INTEGER,
				new String[] { "rel:fence:" + key, "rel:counter:" + key }, Long.toString(token));
		if (value < 0) {
			throw new IllegalStateException("Fenced read refused for " + key + " token " + token);
		}
		line("M\t" + key + "\t" + token);
		return new Held(handle, key, token, acquiredAt, value);
	}

	/**
	 * Writes, confirms, releases; returns the status letter ({@code W} when the write got
	 * through).
	 */
	char finish(Held held) {
		Long applied = this.data.eval(LockWorker.FENCED_WRITE, ScriptOutputType.INTEGER,
				new String[] { "rel:fence:" + held.key, "rel:counter:" + held.key, "rel:writes:" + held.key },
				Long.toString(held.token), Long.toString(held.value + 1));
		char status = (applied == 1) ? 'W' : 'G';
		long confirmedAt = LockWorker.micros();
		boolean stillHeld = held.handle.isHeld();
		long releasedAt = LockWorker.micros();
		held.handle.release();
		line("R\t" + held.key + "\t" + held.token + "\t" + held.acquiredAt + "\t" + releasedAt + "\t"
				+ (stillHeld ? confirmedAt : -1) + "\t0\t" + status + "\t" + this.pid + "\t-1");
		return status;
	}

	private synchronized void line(String text) {
		try {
			this.log.write((text + "\n").getBytes(StandardCharsets.UTF_8));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	@Override
	public void close() {
		this.registry.close();
		try {
			this.log.close();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
