-- identity_renew.lua: replace a region's incarnation after part of its data was lost.
-- KEYS[1]  the identity hash (crdt#region)
-- ARGV[1]  the incarnation found lost (renew only if it is still the current one),
--          then field, value, ... of the new identity
-- Returns  the identity hash after the call (HGETALL form). Marks of which
--          shards were given a head ('shard:<n>') belong to the old incarnation
--          and are dropped.
if redis.call('HGET', KEYS[1], 'incarnation') == ARGV[1] then
  local fields = redis.call('HKEYS', KEYS[1])
  for _, field in ipairs(fields) do
    if string.sub(field, 1, 6) == 'shard:' then redis.call('HDEL', KEYS[1], field) end
  end
  redis.call('HSET', KEYS[1], unpack(ARGV, 2))
end
return redis.call('HGETALL', KEYS[1])
