-- joins/countermap.lua: the join, delete and retirement of CounterMap, a part
-- of the merge, delete and collect scripts. Fields: '<replica>,<field>' (up),
-- '-<replica>,<field>' (down), '~' before either (the floor a delete
-- observed); each joins by max like a counter's slot. The derived index
-- (_index.lua) follows every change by the change in each field's count.
-- read(data, fields) -> stored type code, every touched slot and floor.

local function read(data, fields)
  local names, seen = {''}, {}
  for j = 1, #fields, 2 do
    local f = fields[j]
    if string.sub(f, 1, 1) == '~' then f = string.sub(f, 2) end
    if not seen[f] then
      seen[f] = true
      names[#names + 1] = f
      names[#names + 1] = '~' .. f
    end
  end
  local values = crdt_hmget_all(data, names)
  local current = {}
  for j = 2, #names do current[names[j]] = values[j] end
  return values[1], current
end

local function join(data, fields, current, create)
  local after, updates = {}, {}
  for j = 1, #fields, 2 do
    local f, v = fields[j], fields[j + 1]
    local stored = after[f] or current[f]
    if not stored or crdt_greater(v, stored) then
      after[f] = v
      updates[#updates + 1] = f
      updates[#updates + 1] = v
    end
  end
  if #updates == 0 then return false end
  local index, total = crdt_index_open(data, create)
  if create then
    updates[#updates + 1] = ''
    updates[#updates + 1] = create
  end
  crdt_hset_all(data, updates)
  if total ~= nil then
    local done = {}
    for f in pairs(after) do
      if string.sub(f, 1, 1) == '~' then f = string.sub(f, 2) end
      if not done[f] then
        done[f] = true
        local sign, field = crdt_slot_parts(f)
        local floor = '~' .. f
        local delta = crdt_slot_live(sign, after[f] or current[f], after[floor] or current[floor])
          - crdt_slot_live(sign, current[f], current[floor])
        crdt_index_add(index, field, delta)
        total = total + delta
      end
    end
  end
  crdt_index_close(data, index, total)
  return true
end

-- Reset every field as observed here; the index is left with no field.
local function delete(data)
  local removed = crdt_reset_slots(data)
  if removed == true then
    local index = crdt_index_open(data, true)
    crdt_index_close(data, index, 0)
  end
  return removed
end

local function retire(data, replica)
  return crdt_retire_slots(data, replica)
end

return {read = read, join = join, delete = delete, retire = retire}
