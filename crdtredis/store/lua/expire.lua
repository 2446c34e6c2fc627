-- expire.lua: set (or clear) one object's expiry, a replicated setting.
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3] the object's hash
-- ARGV[1]  incarnation, ARGV[2] name, ARGV[3] the setting
--          '<expire_ms>/<set_ms>/<replica>' (expire_ms 0: persist),
--          ARGV[4] now (Unix ms, this region's clock), ARGV[5] '1' to set it
--          only when the object has no expiry yet (a new key's TTL)
-- Returns  1 when the setting was stored (and recorded, so peers pull it);
--          0 for a missing object, or when a later setting (or, with
--          ARGV[5], any setting) is already there: nothing written.
-- Errors   the guard's NOSHARD, STALE, BADINDEX.
local data, name, setting = KEYS[3], ARGV[2], ARGV[3]
if not crdt_type(data) then return 0 end
local current = redis.call('HGET', data, '@')
if current and (ARGV[5] == '1' or crdt_later(current, setting)) then return 0 end
local guard = crdt_guard(KEYS[1], KEYS[2], ARGV[1])
if guard then return crdt_fail(guard) end
redis.call('HSET', data, '@', setting)
crdt_settle(KEYS[1], data, name, setting, ARGV[4])
crdt_record(KEYS[1], KEYS[2], {name})
return 1
