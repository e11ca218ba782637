package io.github.userlock.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A Lua script loaded from the classpath with its SHA-1, so that it can be run by
 * EVALSHA.
 */
record RedisScript(String name, String source, String sha) {

	static RedisScript load(String name) {
		try (InputStream in = RedisScript.class.getResourceAsStream(name + ".lua")) {
			if (in == null) {
				throw new IllegalStateException("Lock script " + name + ".lua is missing from the classpath");
			}
			String source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
			byte[] digest = MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8));
			return new RedisScript(name, source, HexFormat.of().formatHex(digest));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
