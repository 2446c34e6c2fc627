-- twophase_update.lua: add or remove one element of a 2P-Set.
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3] the set's hash
-- ARGV[1]  incarnation, ARGV[2] name, ARGV[3] type code (2p),
--          ARGV[4] 'add' or 'remove', ARGV[5] the element
-- Returns  1 when the set changed, 0 when not.
-- Errors   WRONGTYPE, NOTMEMBER (remove of a non-member), READD (add after remove).
local data, name, code, op = KEYS[3], ARGV[2], ARGV[3], ARGV[4]
local stored = crdt_type(data)
if stored and stored ~= code then
  return crdt_fail('WRONGTYPE', stored .. '\t' .. name)
end
local field = '.' .. ARGV[5]
local current = redis.call('HGET', data, field)
-- Refusals and no-ops first: they must not need (or create) the shard head.
if op == 'add' then
  if current == 'r' then return crdt_fail('READD', name) end
  if current == 'a' then return 0 end
elseif current ~= 'a' then
  return crdt_fail('NOTMEMBER', name)
end
local guard = crdt_guard(KEYS[1], KEYS[2], ARGV[1])
if guard then return crdt_fail(guard) end
redis.call('HSET', data, field, op == 'add' and 'a' or 'r')
crdt_created(data, not stored and code)
if not stored then crdt_born(KEYS[1], data, name) end
crdt_record(KEYS[1], KEYS[2], {name})
return 1
