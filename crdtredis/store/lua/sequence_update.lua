-- sequence_update.lua: insert or remove one element of a Sequence.
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3] the sequence's hash
-- ARGV[1]  incarnation, ARGV[2] name, ARGV[3] 'insert' or 'remove'
--   insert: ARGV[4] replica id, ARGV[5] reference id ('' for the head),
--           ARGV[6] the element's JSON: [reference or null, value]
--   remove: ARGV[4] the element id
-- Returns  insert: the new element id 'n@replica', n one past the Lamport
--          clock (assigned here, so concurrent writers never share an id);
--          remove: 1 when removed now, 0 when already removed.
-- Errors   WRONGTYPE, NOREF (the reference or element does not exist).
local data, name, op = KEYS[3], ARGV[2], ARGV[3]
local stored = crdt_type(data)
if stored and stored ~= 'sq' then
  return crdt_fail('WRONGTYPE', stored .. '\t' .. name)
end
local target = op == 'insert' and ARGV[5] or ARGV[4]
if target ~= '' and redis.call('HEXISTS', data, '.' .. target) == 0 then
  return crdt_fail('NOREF', target .. '\t' .. name)
end
if op == 'remove' and redis.call('HEXISTS', data, '~' .. target) == 1 then return 0 end
local guard = crdt_guard(KEYS[1], ARGV[1])
if guard then return crdt_fail(guard) end

local result
if op == 'insert' then
  local clock = tonumber(redis.call('HGET', data, '^') or '0') + 1
  redis.call('HSET', data, '^', clock)
  result = string.format('%d', clock) .. '@' .. ARGV[4]
  redis.call('HSET', data, '.' .. result, ARGV[6])
  redis.call('HSETNX', data, '', 'sq')
else
  redis.call('HSET', data, '~' .. target, '1')
  result = 1
end
crdt_record(KEYS[1], KEYS[2], {name})
return result
