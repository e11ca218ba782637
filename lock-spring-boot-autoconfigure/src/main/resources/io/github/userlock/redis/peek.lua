-- Reads a lock without taking it (the actuator's view of a key); never writes.
-- KEYS[1] the lock key
-- Returns its remaining lease in ms, -2 when nobody holds it, -1 when it has no expiry.
return redis.call('PTTL', KEYS[1])
