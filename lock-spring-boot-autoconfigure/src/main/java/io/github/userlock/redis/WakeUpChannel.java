package io.github.userlock.redis;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;

/**
 * The wake-up subscription of a registry: one Pub/Sub channel, {@code <prefix>released},
 * on which a release that saw a waiter publishes the released key. A message wakes this
 * process's waiter of that key; a (re)subscription wakes them all, as messages may have
 * been lost meanwhile.
 */
final class WakeUpChannel extends RedisPubSubAdapter<String, String> {

	private final String channel;

	private final Consumer<String> signal;

	private final Runnable signalAll;

	WakeUpChannel(String keyPrefix, Consumer<String> signal, Runnable signalAll) {
		this.channel = keyPrefix + "released";
		this.signal = signal;
		this.signalAll = signalAll;
	}

	/** The channel's name. */
	String name() {
		return this.channel;
	}

	/** The channel a release of {@code storeKey} publishes on. */
	String channel(String storeKey) {
		return this.channel;
	}

	/**
	 * Listens on {@code pubSub} and subscribes, waiting for the subscription up to
	 * {@code timeoutNanos}.
	 */
	void subscribe(StatefulRedisPubSubConnection<String, String> pubSub, long timeoutNanos) throws Exception {
		pubSub.addListener(this);
		pubSub.async().subscribe(this.channel).get(timeoutNanos, TimeUnit.NANOSECONDS);
	}

	@Override
	public void message(String channel, String message) {
		this.signal.accept(message);
	}

	@Override
	public void subscribed(String channel, long count) {
		this.signalAll.run();
	}

}
