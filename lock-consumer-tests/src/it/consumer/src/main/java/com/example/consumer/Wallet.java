package com.example.consumer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.github.userlock.UserLock;

import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.stereotype.Service;

/** A deliberately non-atomic read-modify-write, made safe by the lock. */
@Service
public class Wallet {

	private final Map<String, Long> balances = new ConcurrentHashMap<>();

	private final AtomicInteger inside = new AtomicInteger();

	private final AtomicInteger mostInside = new AtomicInteger();

	private final StringRedisTemplate redis;

	public Wallet(StringRedisTemplate redis) {
		this.redis = redis;
	}

	@UserLock(key = "#uid")
	public long add(String uid, long amount) {
		this.mostInside.accumulateAndGet(this.inside.incrementAndGet(), Math::max);
		try {
			long balance = this.balances.getOrDefault(uid, 0L);
			Thread.yield();
			this.balances.put(uid, balance + amount);
			return balance + amount;
		}
		finally {
			this.inside.decrementAndGet();
		}
	}

	/** Whether Redis holds a lock key for {@code uid} while this method runs. */
	@UserLock(key = "#uid")
	public boolean lockKeyInRedis(String uid) {
		return !this.redis.keys("user-lock:*" + uid).isEmpty();
	}

	public long balance(String uid) {
		return this.balances.getOrDefault(uid, 0L);
	}

	public int mostInside() {
		return this.mostInside.get();
	}

}
