package io.github.userlock.test;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * What the BlockHound tests allow: Lettuce's {@code SharedLock}, which a command write
 * waits on for the microseconds another thread flushes the same connection (the driver's
 * own write path, not a wait for a lock or an answer).
 */
public class LettuceBlockHoundIntegration implements BlockHoundIntegration {

	@Override
	public void applyTo(BlockHound.Builder builder) {
		builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "incrementWriters");
		builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "lockWritersExclusive");
	}

}
