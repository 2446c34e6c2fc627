-- joins/counter.lua: the join of GCounter and PNCounter, a part of the merge script.
-- Per-slot max: each incoming slot (field: replica id, or '-' .. replica id for
-- a PN decrement slot; value: a canonical decimal) replaces a smaller stored one.
-- read(data, fields) -> stored type code, the stored slots (one HMGET for both:
--   counters are most of a sync); join(data, fields, current, create) -> changed.

-- HMGET and HSET over any number of fields: Lua's unpack() stops at a few
-- thousand values, so long lists go in blocks (a counter may have thousands
-- of replica slots).
local BLOCK = 1000

local function hmget_all(data, names)
  local values = {}
  for first = 1, #names, BLOCK do
    local block = redis.call('HMGET', data, unpack(names, first, math.min(first + BLOCK - 1, #names)))
    for j = 1, #block do values[first + j - 1] = block[j] end
  end
  return values
end

local function hset_all(data, items)
  for first = 1, #items, 2 * BLOCK do
    redis.call('HSET', data, unpack(items, first, math.min(first + 2 * BLOCK - 1, #items)))
  end
end

local function read(data, fields)
  local names = {''}
  for j = 1, #fields, 2 do names[#names + 1] = fields[j] end
  local current = hmget_all(data, names)
  local stored = current[1]
  table.remove(current, 1)
  return stored, current
end

local function join(data, fields, current, create)
  local updates = {}
  for j = 1, #fields, 2 do
    local stored, v = current[(j + 1) / 2], fields[j + 1]
    if not stored or crdt_greater(v, stored) then
      updates[#updates + 1] = fields[j]
      updates[#updates + 1] = v
    end
  end
  if #updates == 0 then return false end
  if create then
    updates[#updates + 1] = ''
    updates[#updates + 1] = create
  end
  hset_all(data, updates)
  return true
end

return {read = read, join = join}
