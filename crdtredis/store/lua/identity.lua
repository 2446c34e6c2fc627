-- identity.lua: find or create a region's identity, atomically.
-- KEYS[1]  the identity hash (crdt#region)
-- ARGV     field, value, field, value, ... of a fresh identity, written only
--          when KEYS[1] does not exist yet
-- Returns  the identity hash as it is after the call (HGETALL form).
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV))
end
return redis.call('HGETALL', KEYS[1])
