-- joins/counter.lua: the join and delete of GCounter and PNCounter, a part of
-- the merge and delete scripts.
-- Per-slot max: each incoming slot (field: replica id, or '-' .. replica id for
-- a PN decrement slot; '~' .. either for the floor a delete observed; value: a
-- canonical decimal) replaces a smaller stored one.
-- read(data, fields) -> stored type code, the stored slots (one HMGET for both:
--   counters are most of a sync); join(data, fields, current, create) -> changed.

local function read(data, fields)
  local names = {''}
  for j = 1, #fields, 2 do names[#names + 1] = fields[j] end
  local current = crdt_hmget_all(data, names)
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
  crdt_hset_all(data, updates)
  return true
end

-- Reset what is observed here (see crdt_reset_slots).
local function delete(data)
  return crdt_reset_slots(data)
end

-- Whether a deleted counter can go (see crdt_retire_slots).
local function retire(data, replica)
  return crdt_retire_slots(data, replica)
end

return {read = read, join = join, delete = delete, retire = retire}
