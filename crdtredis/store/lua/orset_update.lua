-- orset_update.lua: add or remove one element of an OR-Set.
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3] the set's hash
-- ARGV[1]  incarnation, ARGV[2] name, ARGV[3] type code (or),
--          ARGV[4] 'add' or 'remove', ARGV[5] the element,
--          ARGV[6] the writer's replica id (for an add's new tag)
-- Returns  for an add, the new tag 'n@replica'; for a remove, 1.
-- Errors   WRONGTYPE, NOTMEMBER (remove of an element with no live tag).
local data, name, code, op, element = KEYS[3], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local stored = crdt_type(data)
if stored and stored ~= code then
  return crdt_fail('WRONGTYPE', stored .. '\t' .. name)
end
local live_field = '.' .. element
local current = redis.call('HGET', data, live_field)
-- A refusal must not need (or create) the shard head.
if op == 'remove' and not current then return crdt_fail('NOTMEMBER', name) end
local guard = crdt_guard(KEYS[1], KEYS[2], ARGV[1])
if guard then return crdt_fail(guard) end

local result = 1
if op == 'add' then
  -- A replica's add counter starts at the shard's base the first time it is
  -- written in an object: above every tag it used in collected objects.
  local counter = '#' .. ARGV[6]
  if redis.call('HEXISTS', data, counter) == 0 then
    local base = redis.call('HGET', KEYS[1], 'base:t')
    if base then redis.call('HSET', data, counter, base) end
  end
  local n = redis.call('HINCRBY', data, counter, 1)
  result = n .. '@' .. ARGV[6]
  redis.call('HSET', data, live_field, current and (current .. ',' .. result) or result)
else
  -- Observed remove: every live tag seen here becomes a tombstone.
  local tomb_field = '~' .. element
  local tomb = redis.call('HGET', data, tomb_field)
  redis.call('HSET', data, tomb_field, tomb and (tomb .. ',' .. current) or current)
  redis.call('HDEL', data, live_field)
end
crdt_created(data, not stored and code)
if not stored then crdt_born(KEYS[1], data, name) end
crdt_record(KEYS[1], KEYS[2], {name})
return result
