-- map_delete_field.lua: reset fields of one counter map as observed here: each
-- slot of theirs a reader listed gets its floor raised to its value (a
-- concurrent increment elsewhere raises its slot above it and counts), and
-- the map's derived index (_index.lua) follows.
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3] the map's hash
-- ARGV[1]  incarnation, ARGV[2] type code ('cm'), ARGV[3] the map's name,
--          ARGV[4..] slot fields ('<replica>,<field>' or '-<replica>,<field>')
-- Returns  1 when a count was reset (recorded, so peers pull the floors),
--          0 when nothing listed stood above its floor (nothing written).
-- Errors   WRONGTYPE, CORRUPT, and the guard's NOSHARD, STALE, BADINDEX.
local data, name = KEYS[3], ARGV[3]
local code = redis.call('HGET', data, '')
if not code then return 0 end
if code ~= ARGV[2] then return crdt_fail('WRONGTYPE', code .. '\t' .. name) end
local names, listed = {}, {}
for i = 4, #ARGV do
  if not listed[ARGV[i]] then  -- a slot listed twice is reset once
    listed[ARGV[i]] = true
    names[#names + 1] = ARGV[i]
    names[#names + 1] = '~' .. ARGV[i]
  end
end
local found = crdt_hmget_all(data, names)
local raise = {}
for j = 1, #names, 2 do
  local slot, floor = found[j], found[j + 1]
  for _, v in ipairs({slot or '0', floor or '0'}) do
    if not string.match(v, '^%d+$') then return crdt_fail('CORRUPT', names[j] .. '\t' .. name) end
  end
  if slot and (not floor or crdt_greater(slot, floor)) then
    raise[#raise + 1] = {names[j], slot, floor}
  end
end
if #raise == 0 then return 0 end
local guard = crdt_guard(KEYS[1], KEYS[2], ARGV[1])
if guard then return crdt_fail(guard) end
local index, total = crdt_index_open(data, false)
for _, r in ipairs(raise) do
  redis.call('HSET', data, '~' .. r[1], r[2])
  if total ~= nil then
    local sign, field = crdt_slot_parts(r[1])
    local delta = -crdt_slot_live(sign, r[2], r[3])
    crdt_index_add(index, field, delta)
    total = total + delta
  end
end
crdt_index_close(data, index, total)
crdt_record(KEYS[1], KEYS[2], {name})
return 1
