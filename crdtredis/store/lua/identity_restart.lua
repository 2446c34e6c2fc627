-- identity_restart.lua: on a new connection, renew the identity if the server restarted.
-- Run by the guard with EVAL on every new connection to a single server,
-- before the connection carries anything else, so that no write can reach a
-- restarted server in the old incarnation (the script cache is no sign: Redis
-- 6.2 keeps loaded scripts in its AOF).
-- KEYS[1]  the identity hash (crdt#region), KEYS[2..] every shard's head, in order
-- ARGV[1]  the running server's run id ('unknown' when INFO is refused),
--          ARGV[2] a fresh incarnation, ARGV[3] fresh replica ids separated
--          by commas (the first not registered is taken), ARGV[4] the key
--          layout version of the caller (an identity of another is left alone)
-- Returns  1 when the identity was renewed and every existing head handed to
--          it; 0 otherwise (no identity yet, same server, unknown server).
if redis.call('EXISTS', KEYS[1]) == 0 or ARGV[1] == 'unknown' then return 0 end
if (redis.call('HGET', KEYS[1], 'layout') or '1') ~= ARGV[4] then return 0 end
local server = redis.call('HGET', KEYS[1], 'server')
if server == ARGV[1] then return 0 end
if not server or server == 'unknown' then
  redis.call('HSET', KEYS[1], 'server', ARGV[1])
  return 0
end
local epoch = crdt_renew_identity(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
if type(epoch) == 'table' then return epoch end
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HSET', KEYS[i], 'inc', ARGV[2], 'epoch', string.format('%d', epoch))
    redis.call('HSET', KEYS[1], 'shard:' .. (i - 2), 1)
  end
end
return 1
