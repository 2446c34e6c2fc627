-- joins/orset.lua: the join of an OR-Set, a part of the merge and delete scripts.
-- Fields: '.' .. element = live tags 'n@replica,...', '~' .. element = removed
-- tags. Live tags are the union of both sides less every removed tag; removed
-- tags are the union. join(data, fields, _, create) -> changed.
local function tag_set(csv, into)
  if csv then
    for tag in string.gmatch(csv, '[^,]+') do into[tag] = true end
  end
  return into
end

local function sorted_keys(set)
  local list = {}
  for k in pairs(set) do list[#list + 1] = k end
  table.sort(list)
  return list
end

-- Join one element's live and removed tags; true when the stored ones changed.
local function join_element(data, element, parts)
  local live_field, tomb_field = '.' .. element, '~' .. element
  local live_csv = redis.call('HGET', data, live_field)
  local tomb_csv = redis.call('HGET', data, tomb_field)
  local current_live = tag_set(live_csv, {})
  local tomb = tag_set(parts['~'], tag_set(tomb_csv, {}))
  local live = tag_set(parts['.'], tag_set(live_csv, {}))
  local tomb_list, live_list = sorted_keys(tomb), {}
  for _, tag in ipairs(sorted_keys(live)) do
    if not tomb[tag] then live_list[#live_list + 1] = tag end
  end
  local tomb_grew = #tomb_list ~= #sorted_keys(tag_set(tomb_csv, {}))
  local live_changed = #live_list ~= #sorted_keys(current_live)
  for _, tag in ipairs(live_list) do
    if not current_live[tag] then live_changed = true end
  end
  if tomb_grew then
    redis.call('HSET', data, tomb_field, table.concat(tomb_list, ','))
  end
  if live_changed then
    if #live_list > 0 then
      redis.call('HSET', data, live_field, table.concat(live_list, ','))
    else
      redis.call('HDEL', data, live_field)
    end
  end
  return tomb_grew or live_changed
end

local function join(data, fields, _, create)
  local incoming = {}
  for j = 1, #fields, 2 do
    local f = fields[j]
    local element = string.sub(f, 2)
    incoming[element] = incoming[element] or {}
    incoming[element][string.sub(f, 1, 1)] = fields[j + 1]
  end
  local changed = false
  for element, parts in pairs(incoming) do
    if join_element(data, element, parts) then changed = true end
  end
  if changed then crdt_created(data, create) end
  return changed
end

-- Remove every element as observed here: its live tags become tombstones.
local function delete(data)
  local all = redis.call('HGETALL', data)
  local removed = false
  for j = 1, #all, 2 do
    local f = all[j]
    if string.sub(f, 1, 1) == '.' then
      local element = string.sub(f, 2)
      local tomb = redis.call('HGET', data, '~' .. element)
      redis.call('HSET', data, '~' .. element, tomb and (tomb .. ',' .. all[j + 1]) or all[j + 1])
      redis.call('HDEL', data, f)
      removed = true
    end
  end
  return removed
end

-- Drop every removed tag (once every peer has merged them: see _collect.lua).
local function collect(data)
  local fields = redis.call('HKEYS', data)
  local dropped = 0
  for _, f in ipairs(fields) do
    if string.sub(f, 1, 1) == '~' then
      redis.call('HDEL', data, f)
      dropped = dropped + 1
    end
  end
  return dropped
end

-- Whether a set with no element left can go, and this replica's add
-- counter, which the shard's tag base must keep ('t', counter or false).
local function retire(data, replica)
  for _, f in ipairs(redis.call('HKEYS', data)) do
    if string.sub(f, 1, 1) == '.' then return nil end
  end
  return 't', redis.call('HGET', data, '#' .. replica) or false
end

return {join = join, delete = delete, collect = collect, retire = retire}
