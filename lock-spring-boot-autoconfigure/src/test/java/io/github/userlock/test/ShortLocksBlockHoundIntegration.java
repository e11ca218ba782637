package io.github.userlock.test;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * What the BlockHound tests allow: locks held for a few instructions by the code that
 * takes them, the same kind Reactor's own integration allows for
 * {@code ScheduledThreadPoolExecutor}'s queue ({@code offer}, {@code take}):
 * <ul>
 * <li>Lettuce's {@code SharedLock}, which a command write waits on for the microseconds
 * another thread flushes the same connection (the driver's own write path, not a wait for
 * a lock or an answer);</li>
 * <li>the same queue's {@code remove}, which cancelling a timeout takes (the registry's
 * timer removes cancelled tasks at once).</li>
 * </ul>
 * Without them BlockHound throws inside the lock's acquire, which leaves the JDK lock's
 * wait queue with a node of a thread that is gone and hangs every later caller.
 */
public class ShortLocksBlockHoundIntegration implements BlockHoundIntegration {

	@Override
	public void applyTo(BlockHound.Builder builder) {
		builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "incrementWriters");
		builder.allowBlockingCallsInside("io.lettuce.core.protocol.SharedLock", "lockWritersExclusive");
		builder.allowBlockingCallsInside("java.util.concurrent.ScheduledThreadPoolExecutor$DelayedWorkQueue", "remove");
	}

}
