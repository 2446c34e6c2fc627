-- counter_add.lua: add to this replica's slot of one or more counters of a shard.
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3..] the counters' hashes
-- ARGV[1]  incarnation, ARGV[2] type code (g or pn), ARGV[3] the slot field
--          (replica id, or '-' .. replica id for a decrement),
--          ARGV[4] '1' to return the first counter's value, else '0',
--          then per counter: name, amount (a decimal integer >= 0)
-- Returns  when asked, {P, N, FP, FN}: the first counter's sums of increment
--          and decrement slots and of their floors (what a delete observed,
--          never above the slot), as decimal strings (exact past 2^53); else the
--          number of counters. All counters are checked (type, overflow,
--          corrupt slots, the shard's index) before any is written: on an
--          error nothing is written.
-- Errors   WRONGTYPE, OVERFLOW, CORRUPT <field> (a slot that is no integer),
--          and the guard's NOSHARD, STALE, BADINDEX.
local code, field = ARGV[2], ARGV[3]
local count = #KEYS - 2
local created, seeded = {}, {}
-- A slot this replica writes for the first time in an object starts at the
-- shard's base (with a floor there): above anything it held in objects that
-- were collected, so old remains elsewhere never swallow new increments.
local base = nil  -- read once, and only when a slot is missing (not on every increment)
for i = 1, count do
  local data, name, amount = KEYS[i + 2], ARGV[3 + 2 * i], ARGV[4 + 2 * i]
  local found = redis.call('HMGET', data, '', field)
  if found[1] and found[1] ~= code then
    return crdt_fail('WRONGTYPE', found[1] .. '\t' .. name)
  end
  if found[2] and not string.match(found[2], '^%d+$') then
    return crdt_fail('CORRUPT', field .. '\t' .. name)
  end
  if not found[2] and base == nil then base = redis.call('HGET', KEYS[1], 'base:c') end
  seeded[i] = not found[2] and base ~= false and base ~= nil
  if not crdt_fits(found[2] or (seeded[i] and base) or '0', amount) then
    return crdt_fail('OVERFLOW', amount .. '\t' .. name)
  end
  created[i] = not found[1]
end
local guard = crdt_guard(KEYS[1], KEYS[2], ARGV[1])
if guard then return crdt_fail(guard) end

-- The first counter's value, from every slot read and checked before any
-- write (a script does not roll back: a corrupt slot must refuse the call
-- before anything is written, not fail it half done). A slot counts above
-- its floor (the value a delete observed; '~' .. field), never below zero.
local totals
if ARGV[4] == '1' then
  local slots, floors = crdt_slots_of(redis.call('HGETALL', KEYS[3]))
  if not slots then return crdt_fail('CORRUPT', floors .. '\t' .. ARGV[5]) end
  if seeded[1] then slots[field], floors[field] = base, base end
  -- This call's amount counts as added already (it is written below).
  local p, n, fp, fn = {ARGV[6]}, {}, {}, {}
  local function down(f) return string.sub(f, 1, 1) == '-' and code == 'pn' end
  if down(field) then p, n = {}, {ARGV[6]} end
  for f, v in pairs(slots) do
    if down(f) then n[#n + 1] = v else p[#p + 1] = v end
  end
  -- A floor counts up to its slot's value (a floor may stand above a slot
  -- that arrived in an earlier piece of a large merge, or have no slot yet).
  for f, floor in pairs(floors) do
    local held = slots[f] or '0'
    if f == field then held = crdt_sum({held, ARGV[6]}) end
    if crdt_greater(floor, held) then floor = held end
    if down(f) then fn[#fn + 1] = floor else fp[#fp + 1] = floor end
  end
  totals = {crdt_sum(p), crdt_sum(n), crdt_sum(fp), crdt_sum(fn)}
end

local changed = {}
for i = 1, count do
  local data, name, amount = KEYS[i + 2], ARGV[3 + 2 * i], ARGV[4 + 2 * i]
  if amount ~= '0' then
    if created[i] then
      redis.call('HSET', data, '', code)
      crdt_born(KEYS[1], data, name)
    end
    if seeded[i] then redis.call('HSET', data, field, base, '~' .. field, base) end
    redis.call('HINCRBY', data, field, amount)
    changed[#changed + 1] = name
  end
end
crdt_record(KEYS[1], KEYS[2], changed)
return totals or count
