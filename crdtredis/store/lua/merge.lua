-- merge.lua: join replicated state into objects of one shard (the CRDT merge).
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3..] the objects' hashes
-- ARGV[1]  incarnation, ARGV[2] a JSON array with one entry per object, in
--          the order of KEYS[3..]: [name, type code, [field, value, ...]],
--          fields in the layout's encoding, already validated by the caller
--          (one string instead of thousands of arguments: far cheaper to send)
-- Returns  one entry per object: 1 changed (and recorded in the index with a
--          new version), 0 nothing new (nothing recorded: no ping-pong), an
--          error string 'WRONGTYPE <stored>' / 'CONFLICT <field>' for an
--          object left untouched, or 'FAILED <error>' when Redis itself
--          failed on the object (try again).
local guard = crdt_guard(KEYS[1], ARGV[1])
if guard then return crdt_fail(guard) end

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

local function join_counter(data, fields, current, create)
  if not current then
    local names = {}
    for j = 1, #fields, 2 do names[#names + 1] = fields[j] end
    current = hmget_all(data, names)
  end
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

local function join_gset(data, fields)
  local changed = false
  for j = 1, #fields, 2 do
    if redis.call('HSETNX', data, fields[j], fields[j + 1]) == 1 then changed = true end
  end
  return changed
end

local function join_twophase(data, fields)
  local changed = false
  for j = 1, #fields, 2 do
    local f, v = fields[j], fields[j + 1]
    local current = redis.call('HGET', data, f)
    if not current or (v == 'r' and current ~= 'r') then
      redis.call('HSET', data, f, v)
      changed = true
    end
  end
  return changed
end

local function join_orset(data, fields)
  local incoming = {}
  for j = 1, #fields, 2 do
    local f = fields[j]
    local element = string.sub(f, 2)
    incoming[element] = incoming[element] or {}
    incoming[element][string.sub(f, 1, 1)] = fields[j + 1]
  end
  local changed = false
  for element, parts in pairs(incoming) do
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
      changed = true
    end
    if live_changed then
      if #live_list > 0 then
        redis.call('HSET', data, live_field, table.concat(live_list, ','))
      else
        redis.call('HDEL', data, live_field)
      end
      changed = true
    end
  end
  return changed
end

local function join_sequence(data, fields)
  for j = 1, #fields, 2 do
    local f = fields[j]
    if string.sub(f, 1, 1) == '.' then
      local current = redis.call('HGET', data, f)
      if current and current ~= fields[j + 1] then return 'CONFLICT ' .. f end
    end
  end
  local changed = false
  for j = 1, #fields, 2 do
    local f, v = fields[j], fields[j + 1]
    if f == '^' then
      local current = redis.call('HGET', data, f)
      if not current or crdt_greater(v, current) then redis.call('HSET', data, f, v) end
    elseif redis.call('HSETNX', data, f, v) == 1 then
      changed = true
    end
  end
  return changed
end

local joins = {
  g = join_counter, pn = join_counter, gs = join_gset,
  ['2p'] = join_twophase, ['or'] = join_orset, sq = join_sequence,
}

-- Join one object; returns 1 (changed), 0 (nothing new) or a refusal string.
local function merge_one(data, name, code, fields)
  local stored, current
  if (code == 'g' or code == 'pn') and #fields > 0 then
    -- one read for the type and every slot: counters are most of a sync
    local names = {''}
    for j = 1, #fields, 2 do names[#names + 1] = fields[j] end
    current = hmget_all(data, names)
    stored = current[1]
    table.remove(current, 1)
  else
    stored = crdt_type(data)
  end
  local join = joins[code]
  if stored and stored ~= code then return 'WRONGTYPE ' .. stored end
  if not join then return 'WRONGTYPE unknown type code ' .. code end
  if #fields == 0 then return 0 end
  local outcome = join(data, fields, current, current and not stored and code)
  if type(outcome) == 'string' then return outcome end
  if not outcome then return 0 end
  if not stored and not current then redis.call('HSET', data, '', code) end
  return 1
end

local results, changed = {}, {}
local objects = cjson.decode(ARGV[2])
for i = 3, #KEYS do
  local name, code, fields = objects[i - 2][1], objects[i - 2][2], objects[i - 2][3]
  local ok, outcome = pcall(merge_one, KEYS[i], name, code, fields)
  if not ok then
    local message = type(outcome) == 'table' and outcome.err or tostring(outcome)
    if string.find(message, 'WRONGTYPE', 1, true) then
      -- Not a hash at all: refused before anything was written, for good.
      results[#results + 1] = 'WRONGTYPE ' .. redis.call('TYPE', KEYS[i]).ok .. ' key'
    else
      -- Redis failed on this object (out of memory, say): it may be partly
      -- written, so it is recorded as changed (harmless if not) and reported
      -- as FAILED, which makes the caller try it again.
      changed[#changed + 1] = name
      results[#results + 1] = 'FAILED ' .. message
    end
  else
    if outcome == 1 then changed[#changed + 1] = name end
    results[#results + 1] = outcome
  end
end
crdt_record(KEYS[1], KEYS[2], changed)
return results
