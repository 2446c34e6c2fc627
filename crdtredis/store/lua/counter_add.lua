-- counter_add.lua: add to this replica's slot of one or more counters of a shard.
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3..] the counters' hashes
-- ARGV[1]  incarnation, ARGV[2] type code (g or pn), ARGV[3] the slot field
--          (replica id, or '-' .. replica id for a decrement),
--          ARGV[4] '1' to return the first counter's hash, else '0',
--          then per counter: name, amount (a decimal integer >= 0)
-- Returns  the first counter's fields (HGETALL form) when asked, else the
--          number of counters. All counters are checked (type, overflow)
--          before any is written: on an error nothing is written.
local code, field = ARGV[2], ARGV[3]
local count = #KEYS - 2
for i = 1, count do
  local data, name, amount = KEYS[i + 2], ARGV[3 + 2 * i], ARGV[4 + 2 * i]
  local stored = crdt_type(data)
  if stored and stored ~= code then
    return crdt_fail('WRONGTYPE', stored .. '\t' .. name)
  end
  local current = redis.call('HGET', data, field) or '0'
  if not crdt_fits(current, amount) then
    return crdt_fail('OVERFLOW', amount .. '\t' .. name)
  end
end
local guard = crdt_guard(KEYS[1], ARGV[1])
if guard then return crdt_fail(guard) end
for i = 1, count do
  local data, name, amount = KEYS[i + 2], ARGV[3 + 2 * i], ARGV[4 + 2 * i]
  if amount ~= '0' then
    redis.call('HSETNX', data, '', code)
    redis.call('HINCRBY', data, field, amount)
    crdt_record(KEYS[1], KEYS[2], name)
  end
end
if ARGV[4] == '1' then return redis.call('HGETALL', KEYS[3]) end
return count
