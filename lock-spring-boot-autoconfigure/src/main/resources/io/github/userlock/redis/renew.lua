-- Renews the leases of many held locks in one round trip (all keys in one slot on a cluster).
-- KEYS[i] a lock key; ARGV[2i-1] its owner token, ARGV[2i] its lease in ms
-- Returns the indexes (1-based) of the keys that are no longer ours: those leases are lost.
local lost = {}
for i = 1, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v and string.sub(v, 1, 32) == ARGV[2 * i - 1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])
  else
    lost[#lost + 1] = i
  end
end
return lost
