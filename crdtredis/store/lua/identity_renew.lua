-- identity_renew.lua: replace a region's incarnation after part of its data was lost.
-- KEYS[1]  the identity hash (crdt#region)
-- ARGV[1]  the incarnation found lost (renew only if it is still the current one),
--          ARGV[2] the server to record, ARGV[3] the new incarnation, ARGV[4]
--          fresh replica ids separated by commas (the first not registered
--          is taken), ARGV[5] the time of the renewal (Unix seconds)
-- Returns  the identity hash after the call (HGETALL form). Marks of which
--          shards were given a head ('shard:<n>') belong to the old incarnation
--          and are dropped.
if redis.call('HGET', KEYS[1], 'incarnation') == ARGV[1] then
  local renewed = crdt_renew_identity(KEYS[1], ARGV[2], ARGV[3], ARGV[4])
  if type(renewed) == 'table' then return renewed end
  redis.call('HSET', KEYS[1], 'created', ARGV[5])
end
return redis.call('HGETALL', KEYS[1])
