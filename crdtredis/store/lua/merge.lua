-- merge.lua: join replicated state into objects of one shard (the CRDT merge).
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3..] the objects' hashes
-- ARGV[1]  incarnation, then per object: name, type code, field count F,
--          then F field/value pairs in the layout's encoding (already
--          validated by the caller)
-- Returns  one entry per object: 1 changed (and recorded in the index with a
--          new version), 0 nothing new (nothing recorded: no ping-pong), or an
--          error string 'WRONGTYPE <stored>' / 'CONFLICT <field>' for an
--          object left untouched.
local guard = crdt_guard(KEYS[1], ARGV[1])
if guard then return crdt_fail(guard) end

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

local function join_counter(data, fields)
  local changed = false
  for j = 1, #fields, 2 do
    local f, v = fields[j], fields[j + 1]
    local current = redis.call('HGET', data, f)
    if not current or crdt_greater(v, current) then
      redis.call('HSET', data, f, v)
      changed = true
    end
  end
  return changed
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

local results, changed = {}, {}
local at = 2
for i = 3, #KEYS do
  local data, name, code = KEYS[i], ARGV[at], ARGV[at + 1]
  local count = tonumber(ARGV[at + 2])
  local fields = {}
  for j = 1, 2 * count do fields[j] = ARGV[at + 2 + j] end
  at = at + 3 + 2 * count
  local stored = crdt_type(data)
  local join = joins[code]
  if stored and stored ~= code then
    results[#results + 1] = 'WRONGTYPE ' .. stored
  elseif not join then
    results[#results + 1] = 'WRONGTYPE unknown type code ' .. code
  elseif count == 0 then
    results[#results + 1] = 0
  else
    local outcome = join(data, fields)
    if type(outcome) == 'string' then
      results[#results + 1] = outcome
    elseif outcome then
      redis.call('HSETNX', data, '', code)
      changed[#changed + 1] = name
      results[#results + 1] = 1
    else
      results[#results + 1] = 0
    end
  end
end
crdt_record(KEYS[1], KEYS[2], changed)
return results
