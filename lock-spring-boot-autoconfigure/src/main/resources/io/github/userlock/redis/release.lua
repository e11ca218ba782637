-- Releases the lock only if it is still ours (compare-and-delete) and wakes waiters if any.
-- KEYS[1] the lock key
-- ARGV[1] the owner token, ARGV[2] the wake-up channel, ARGV[3] keep the key for this many ms (0: delete now)
-- A channel with a hash tag ('{') is the key's sharded bucket channel (Redis 7 cluster, same slot): SPUBLISH on
-- this node. Its failure (an ACL changed since connect) must not fail the release, which already happened.
-- Returns 1 when the lock was ours (2 when waiters were woken), 0 when it had expired or belongs to
-- someone else (left untouched).
local v = redis.call('GET', KEYS[1])
-- The common case first: ours, nobody waiting (no '+' after the token), not kept. Same effect as the general
-- path below without its string copy and number conversion (about 0.3 µs less inside Redis per call).
if v == ARGV[1] and ARGV[3] == '0' then
  redis.call('DEL', KEYS[1])
  return 1
end
if not v or string.sub(v, 1, 32) ~= ARGV[1] then
  return 0
end
local keep = tonumber(ARGV[3])
if keep > 0 then
  -- kept a while longer: waiters are woken too, to wait for the new, shorter expiry
  redis.call('PEXPIRE', KEYS[1], keep)
else
  redis.call('DEL', KEYS[1])
end
if #v > 32 then
  if string.find(ARGV[2], '{', 1, true) then
    redis.pcall('SPUBLISH', ARGV[2], KEYS[1])
  else
    redis.call('PUBLISH', ARGV[2], KEYS[1])
  end
  return 2
end
return 1
