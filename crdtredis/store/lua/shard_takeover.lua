-- shard_takeover.lua: hand a shard head to a newer incarnation of the region.
-- KEYS[1]  the shard's head hash
-- ARGV[1]  the region's current incarnation, ARGV[2] its epoch
-- Returns  the incarnation the head holds after the call (false when the
--          shard has no head: nothing to hand over). Heads only move to a
--          higher epoch: a process with an out-of-date identity can never
--          hand a head back to an incarnation that was renewed away.
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local held = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0')
if held < tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'inc', ARGV[1], 'epoch', ARGV[2])
end
return redis.call('HGET', KEYS[1], 'inc')
