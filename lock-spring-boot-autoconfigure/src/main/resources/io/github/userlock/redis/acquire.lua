-- Takes the lock if it is free. One round trip; every key is in the same hash slot.
-- KEYS[1] the lock key, KEYS[2] the fencing counter of the lock key's slot bucket
-- ARGV[1] the owner token (32 hex characters), ARGV[2] the lease in milliseconds,
-- ARGV[3] how many following tokens to reserve for hand-offs to threads of the same process
-- Returns the fencing token (> 0) when acquired, otherwise -1 - (remaining lease in ms).
-- A retry of the same attempt (the client re-sends commands in flight when it reconnects) finds its own
-- owner token and succeeds again, so that a late success is always seen and can be undone.
local acquired = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
if not acquired then
  local v = redis.call('GET', KEYS[1])
  if v and string.sub(v, 1, 32) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    acquired = true
  end
end
if acquired then
  -- Fencing token: strictly above every earlier token of the bucket (INCRBY: one command). A counter that
  -- is missing (first use, or lost with a restart or failover) is seeded from Redis server time in
  -- microseconds, which is above every token issued before as long as a bucket averaged fewer than
  -- 1e6 / (1 + ARGV[3]) acquisitions per second since it was seeded.
  local reserve = 1 + tonumber(ARGV[3])
  local last = redis.call('INCRBY', KEYS[2], reserve)
  if last == reserve then
    local t = redis.call('TIME')
    last = tonumber(t[1]) * 1000000 + tonumber(t[2]) + reserve
    redis.call('SET', KEYS[2], string.format('%.0f', last))
  end
  return last - reserve + 1
end
-- Held: mark that someone waits, so that the release publishes a wake-up (SETRANGE keeps the TTL).
redis.call('SETRANGE', KEYS[1], 32, '+')
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  ttl = 0
end
return -1 - ttl
