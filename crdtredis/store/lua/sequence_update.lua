-- sequence_update.lua: insert or remove one element of a Sequence.
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3] the sequence's hash
-- ARGV[1]  incarnation, ARGV[2] name, ARGV[3] 'insert' or 'remove'
--   insert: ARGV[4] replica id, ARGV[5] reference id ('' for the head),
--           ARGV[6] the element's JSON: [reference or null, value]
--   remove: ARGV[4] the element id
--   then, last: the object's version the caller last read ('' if none)
-- Returns  {result, version, current}: result is, for an insert, the new
--          element id 'n@replica' (n one past the Lamport clock, assigned
--          here so concurrent writers never share an id), for a remove 1
--          when removed now and 0 when already removed; version is the
--          object's version after the call; current is 1 when no other change
--          came between the caller's read and this write (its cached copy
--          plus this one operation is the stored object), else 0.
-- Errors   WRONGTYPE, NOREF (the reference or element does not exist),
--          EXHAUSTED (the Lamport clock is at 2^53 - 1).
local data, name, op = KEYS[3], ARGV[2], ARGV[3]
local last_read = ARGV[#ARGV]
-- A version is '<shard head incarnation>:<index score>', as the caller reads
-- it; the score counts only while the log exists (a log that expired or was
-- evicted keeps its index entry until collection).
local head_inc = redis.call('HGET', KEYS[1], 'inc') or ''
local score = redis.call('EXISTS', data) == 1 and redis.call('ZSCORE', KEYS[2], name)
local version = head_inc .. ':' .. (score or '')
local current = version == last_read and 1 or 0
local stored = crdt_type(data)
if stored and stored ~= 'sq' then
  return crdt_fail('WRONGTYPE', stored .. '\t' .. name)
end
local target = op == 'insert' and ARGV[5] or ARGV[4]
if target ~= '' and redis.call('HEXISTS', data, '.' .. target) == 0 then
  return crdt_fail('NOREF', target .. '\t' .. name)
end
if op == 'remove' and redis.call('HEXISTS', data, '~' .. target) == 1 then
  return {0, version, current}
end
-- The largest Lamport counter every replica holds exactly (2^53 - 1), as in
-- the pure Sequence: refused here before anything is written.
local clock
if op == 'insert' then
  -- The clock counts on from the shard's base at least: above every id of
  -- collected logs, even in a log re-created here from another region's
  -- (whose clock may be lower), so no id is ever used twice.
  clock = math.max(tonumber(redis.call('HGET', data, '^') or '0'),
    tonumber(redis.call('HGET', KEYS[1], 'base:s') or '0')) + 1
  if clock > 9007199254740991 then return crdt_fail('EXHAUSTED', name) end
end
local guard = crdt_guard(KEYS[1], KEYS[2], ARGV[1])
if guard then return crdt_fail(guard) end

local result
if op == 'insert' then
  redis.call('HSET', data, '^', string.format('%d', clock))
  result = string.format('%d', clock) .. '@' .. ARGV[4]
  redis.call('HSET', data, '.' .. result, ARGV[6])
  if not stored then
    redis.call('HSET', data, '', 'sq')
    crdt_born(KEYS[1], data, name)
  end
else
  redis.call('HSET', data, '~' .. target, '1')
  result = 1
end
local recorded = crdt_record(KEYS[1], KEYS[2], {name})
return {result, ARGV[1] .. ':' .. string.format('%d', recorded), current}
