-- map_add.lua: add to this replica's slots of fields of one or more counter
-- maps of a shard, and to each map's derived index (_index.lua).
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3..] the maps' hashes
-- ARGV[1]  incarnation, ARGV[2] type code ('cm'), ARGV[3] the slot prefix
--          (replica id, or '-' .. replica id for a decrement), ARGV[4] a JSON
--          array with one entry per map, in KEYS order: [name, [field, amount,
--          field, amount, ...]], amounts decimal integers >= 0
-- Returns  the first field's new count, as a decimal string (exact up to
--          2^53, the index's precision). Every map and field is checked (type,
--          overflow, corrupt slots, the shard's index) before any is written:
--          on an error nothing is written.
-- Errors   WRONGTYPE, OVERFLOW, CORRUPT <field> (a slot that is no integer),
--          and the guard's NOSHARD, STALE, BADINDEX.
local code, prefix = ARGV[2], ARGV[3]
local maps = cjson.decode(ARGV[4])
local sign = ''
if string.sub(prefix, 1, 1) == '-' then sign = '-' end
local base = nil  -- the shard's counter base, read once, when a slot is missing
local plans = {}
for i, entry in ipairs(maps) do
  local data, name, pairs_ = KEYS[i + 2], entry[1], entry[2]
  local names = {''}
  for j = 1, #pairs_, 2 do
    local slot = prefix .. ',' .. pairs_[j]
    names[#names + 1] = slot
    names[#names + 1] = '~' .. slot
  end
  local found = crdt_hmget_all(data, names)
  if found[1] and found[1] ~= code then return crdt_fail('WRONGTYPE', found[1] .. '\t' .. name) end
  local plan = {data = data, name = name, created = not found[1], slots = {}}
  for j = 1, #pairs_, 2 do
    local slot, floor = found[j + 1], found[j + 2]
    local slot_name, amount = names[j + 1], pairs_[j + 1]
    for _, v in ipairs({slot or '0', floor or '0'}) do
      if not string.match(v, '^%d+$') then return crdt_fail('CORRUPT', slot_name .. '\t' .. name) end
    end
    local seeded = false
    if not slot then
      if base == nil then base = redis.call('HGET', KEYS[1], 'base:c') or false end
      seeded = base ~= false
    end
    if seeded then slot, floor = base, base end
    if not crdt_fits(slot or '0', amount) then
      return crdt_fail('OVERFLOW', amount .. '\t' .. name)
    end
    plan.slots[#plan.slots + 1] = {field = pairs_[j], slot = slot_name, amount = amount,
      before = slot, floor = floor, seeded = seeded}
  end
  plans[i] = plan
end
local guard = crdt_guard(KEYS[1], KEYS[2], ARGV[1])
if guard then return crdt_fail(guard) end

local changed = {}
for _, plan in ipairs(plans) do
  local index, total = crdt_index_open(plan.data, plan.created)
  local wrote = false
  for _, s in ipairs(plan.slots) do
    if s.amount ~= '0' then
      if plan.created and not wrote then
        redis.call('HSET', plan.data, '', code)
        crdt_born(KEYS[1], plan.data, plan.name)
      end
      wrote = true
      if s.seeded then redis.call('HSET', plan.data, s.slot, base, '~' .. s.slot, base) end
      redis.call('HINCRBY', plan.data, s.slot, s.amount)
      if total ~= nil then
        -- The slot's new value exactly (HINCRBY's reply is a Lua double).
        local after = crdt_sum({s.before or '0', s.amount})
        local delta = crdt_slot_live(sign, after, s.floor)
          - crdt_slot_live(sign, s.before, s.floor)
        crdt_index_add(index, s.field, delta)
        total = total + delta
      end
    end
  end
  if wrote then changed[#changed + 1] = plan.name end
  -- A map created by nothing but zeros was not written: no index either
  -- (opening it for a new map already removed any left from an earlier life).
  if wrote or not plan.created then crdt_index_close(plan.data, index, total) end
end
crdt_record(KEYS[1], KEYS[2], changed)
local head = plans[1]
if not head or #head.slots == 0 then return '0' end
local score = redis.call('ZSCORE', crdt_index_key(head.data), head.slots[1].field)
return string.format('%d', score and -tonumber(score) or 0)
