-- shard_takeover.lua: move a shard head from an older incarnation to the current one.
-- KEYS[1]  the shard's head hash
-- ARGV[1]  the region's current incarnation (just read from the identity),
--          ARGV[2] the incarnation the head is expected to hold now
-- Returns  the incarnation the head holds after the call. A head that holds
--          something else than ARGV[2] is left alone (someone else moved it).
if redis.call('HGET', KEYS[1], 'inc') == ARGV[2] then
  redis.call('HSET', KEYS[1], 'inc', ARGV[1])
end
return redis.call('HGET', KEYS[1], 'inc')
