-- identity.lua: find or create a region's identity, atomically, and renew it
-- when the Redis server it was written on is not the one running now.
-- KEYS[1]  the identity hash (crdt#region)
-- ARGV[1]  the running server: its run id (on a cluster, its primaries' run
--          ids), which changes at every restart and failover
-- ARGV[2]  a fresh incarnation, used when the identity is created or renewed
-- ARGV[3]  the key layout version of the caller: an identity of another
--          layout is returned as it is, never renewed (the caller refuses it)
-- ARGV[4]  fresh replica ids separated by commas, for a renewal (the first
--          not registered is taken)
-- ARGV[5..] field, value, ... of a fresh identity (with 'server' = ARGV[1]),
--          written only when KEYS[1] does not exist yet
-- Returns  {renewed, the identity hash after the call (HGETALL form)}:
--          renewed is 1 when the server changed under an existing identity.
--          A restarted server may hold an older copy of the data (a restore,
--          an OS crash with appendfsync everysec, a failover that lost the
--          last writes), whose counter slots and log ids its peers already
--          hold beyond it: counting on in them would lose writes. So the
--          region takes a new incarnation, as after a partial loss: the
--          epoch grows by one and the marks of shards given a head go.
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 5))
  return {0, redis.call('HGETALL', KEYS[1])}
end
if (redis.call('HGET', KEYS[1], 'layout') or '1') ~= ARGV[3] then
  return {0, redis.call('HGETALL', KEYS[1])}
end
local server = redis.call('HGET', KEYS[1], 'server')
-- 'unknown': the caller may not run INFO (or reach every primary); it cannot
-- tell a restart, so it changes nothing.
if server == ARGV[1] or ARGV[1] == 'unknown' then return {0, redis.call('HGETALL', KEYS[1])} end
if not server or server == 'unknown' then
  -- Written before servers were recorded: adopt this one.
  redis.call('HSET', KEYS[1], 'server', ARGV[1])
  return {0, redis.call('HGETALL', KEYS[1])}
end
local renewed = crdt_renew_identity(KEYS[1], ARGV[1], ARGV[2], ARGV[4])
if type(renewed) == 'table' then return renewed end
return {1, redis.call('HGETALL', KEYS[1])}
