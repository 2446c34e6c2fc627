-- init_shard.lua: give a shard its head, owned by the current incarnation.
-- KEYS[1]  the shard's head hash
-- ARGV[1]  the incarnation that owns the shard's writes, ARGV[2] its epoch
-- Returns  the incarnation the head holds after the call (an existing head is
--          never changed here).
if redis.call('HSETNX', KEYS[1], 'inc', ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], 'epoch', ARGV[2])
  redis.call('HSETNX', KEYS[1], 'v', 0)
end
return redis.call('HGET', KEYS[1], 'inc')
