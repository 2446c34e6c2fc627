-- joins/counter.lua: the join and delete of GCounter and PNCounter, a part of
-- the merge and delete scripts.
-- Per-slot max: each incoming slot (field: replica id, or '-' .. replica id for
-- a PN decrement slot; '~' .. either for the floor a delete observed; value: a
-- canonical decimal) replaces a smaller stored one.
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

-- Reset what is observed here: every slot's value becomes its floor (a
-- concurrent increment elsewhere raises its slot above the floor and counts).
local function delete(data)
  local all = redis.call('HGETALL', data)
  local slots, floors = {}, {}
  for j = 1, #all, 2 do
    local f, v = all[j], all[j + 1]
    if f ~= '' and f ~= '@' and f ~= '*' then
      if not string.match(v, '^%d+$') then return 'CORRUPT ' .. f end
      if string.sub(f, 1, 1) == '~' then floors[string.sub(f, 2)] = v else slots[f] = v end
    end
  end
  local updates = {}
  for f, v in pairs(slots) do
    if not floors[f] or crdt_greater(v, floors[f]) then
      updates[#updates + 1] = '~' .. f
      updates[#updates + 1] = v
    end
  end
  if #updates == 0 then return false end
  hset_all(data, updates)
  return true
end

-- Whether a deleted counter can go (every slot at its floor: nothing
-- visible), and this replica's largest own slot, which the shard's counter
-- base must keep ('c', slot or false); nil while anything is visible.
local function retire(data, replica)
  local all = redis.call('HGETALL', data)
  local fields = {}
  for j = 1, #all, 2 do fields[all[j]] = all[j + 1] end
  for f, v in pairs(fields) do
    local mark = string.sub(f, 1, 1)
    if f ~= '' and mark ~= '~' and mark ~= '@' and mark ~= '*' then
      local floor = fields['~' .. f]
      if not floor or crdt_greater(v, floor) then return nil end
    end
  end
  local own, down = fields[replica], fields['-' .. replica]
  if down and (not own or crdt_greater(down, own)) then own = down end
  return 'c', own or false
end

return {read = read, join = join, delete = delete, retire = retire}
