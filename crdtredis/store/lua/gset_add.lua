-- gset_add.lua: add one element to a GSet.
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3] the set's hash
-- ARGV[1]  incarnation, ARGV[2] name, ARGV[3] type code (gs), ARGV[4] the element
-- Returns  1 when the set changed, 0 when the element was a member already.
-- Errors   WRONGTYPE (the key holds another type).
local data, name, code = KEYS[3], ARGV[2], ARGV[3]
local stored = crdt_type(data)
if stored and stored ~= code then
  return crdt_fail('WRONGTYPE', stored .. '\t' .. name)
end
local field = '.' .. ARGV[4]
-- A no-op must not need (or create) the shard head.
if redis.call('HEXISTS', data, field) == 1 then return 0 end
local guard = crdt_guard(KEYS[1], KEYS[2], ARGV[1])
if guard then return crdt_fail(guard) end
redis.call('HSET', data, field, '1')
crdt_created(data, not stored and code)
if not stored then crdt_born(KEYS[1], data, name) end
crdt_record(KEYS[1], KEYS[2], {name})
return 1
