-- set_update.lua: add or remove one element of a GSet, 2P-Set or OR-Set.
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3] the set's hash
-- ARGV[1]  incarnation, ARGV[2] name, ARGV[3] type code (gs, 2p, or),
--          ARGV[4] 'add' or 'remove', ARGV[5] the element,
--          ARGV[6] the writer's replica id (used by OR-Set adds; '' otherwise)
-- Returns  1 when the set changed, 0 when not; for an OR-Set add, the new tag.
-- Errors   WRONGTYPE, NOTMEMBER (remove of a non-member), READD (2P-Set).
local data, name, code, op, element = KEYS[3], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local stored = crdt_type(data)
if stored and stored ~= code then
  return crdt_fail('WRONGTYPE', stored .. '\t' .. name)
end
local live_field = '.' .. element
local current = redis.call('HGET', data, live_field)

-- Refusals and no-ops first: they must not need (or create) the shard head.
if op == 'add' then
  if code == 'gs' and current then return 0 end
  if code == '2p' and current == 'r' then return crdt_fail('READD', name) end
  if code == '2p' and current == 'a' then return 0 end
elseif (code == '2p' and current ~= 'a') or (code == 'or' and not current) then
  return crdt_fail('NOTMEMBER', name)
end
local guard = crdt_guard(KEYS[1], ARGV[1])
if guard then return crdt_fail(guard) end

local result = 1

if code == 'gs' then
  redis.call('HSET', data, live_field, '1')
elseif code == '2p' then
  redis.call('HSET', data, live_field, op == 'add' and 'a' or 'r')
else
  if op == 'add' then
    local n = redis.call('HINCRBY', data, '#' .. ARGV[6], 1)
    result = n .. '@' .. ARGV[6]
    redis.call('HSET', data, live_field, current and (current .. ',' .. result) or result)
  else
    local tomb_field = '~' .. element
    local tomb = redis.call('HGET', data, tomb_field)
    redis.call('HSET', data, tomb_field, tomb and (tomb .. ',' .. current) or current)
    redis.call('HDEL', data, live_field)
  end
end
redis.call('HSETNX', data, '', code)
crdt_record(KEYS[1], KEYS[2], {name})
return result
