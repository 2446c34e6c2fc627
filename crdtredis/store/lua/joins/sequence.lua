-- joins/sequence.lua: the join of a Sequence (union of operations), a part of
-- the merge and delete scripts. Fields: '.' .. id = the element's JSON, '~' .. id = '1'
-- (removed), '^' = the Lamport clock (max). An element id stored with other
-- content means two replicas share an id: refused whole ('CONFLICT <field>'),
-- except for a removed element whose reference agrees: collection may have
-- dropped its value on one side, and the *skeleton* '[<ref>,null]' (see
-- collect) stands for both.
-- join(data, fields, _, create) -> changed, or the refusal.

-- The skeleton of an element's JSON: its reference with the value dropped.
local function skeleton(json)
  local ref = string.match(json, '^%[(null),') or string.match(json, '^%[("[^"]*"),')
  return ref and ('[' .. ref .. ',null]')
end

-- The ids removed in a flat field, value, ... list (an HGETALL reply, or a
-- join's incoming fields), as a set.
local function removed_ids(fields)
  local removed = {}
  for j = 1, #fields, 2 do
    if string.sub(fields[j], 1, 1) == '~' then removed[string.sub(fields[j], 2)] = true end
  end
  return removed
end

local function join(data, fields, _, create)
  local removed = removed_ids(fields)
  local settle = {}
  for j = 1, #fields, 2 do
    local f = fields[j]
    if string.sub(f, 1, 1) == '.' then
      local current = redis.call('HGET', data, f)
      if current and current ~= fields[j + 1] then
        local id = string.sub(f, 2)
        local bare = skeleton(current)
        local gone = removed[id] or redis.call('HEXISTS', data, '~' .. id) == 1
        if not (gone and bare and bare == skeleton(fields[j + 1])) then
          return 'CONFLICT ' .. f
        end
        settle[f] = bare
      end
    end
  end
  local changed = false
  for j = 1, #fields, 2 do
    local f, v = fields[j], fields[j + 1]
    if f == '^' then
      local current = redis.call('HGET', data, f)
      if not current or crdt_greater(v, current) then redis.call('HSET', data, f, v) end
    elseif settle[f] then
      if redis.call('HGET', data, f) ~= settle[f] then
        redis.call('HSET', data, f, settle[f])
        changed = true
      end
    elseif redis.call('HSETNX', data, f, v) == 1 then
      changed = true
    end
  end
  if changed then crdt_created(data, create) end
  return changed
end

-- Drop the values of removed elements (once every peer has merged them: see
-- _collect.lua), keeping skeletons: later elements may still refer to them.
local function collect(data)
  local all = redis.call('HGETALL', data)
  local removed = removed_ids(all)
  local dropped = 0
  for j = 1, #all, 2 do
    local f, v = all[j], all[j + 1]
    if string.sub(f, 1, 1) == '.' and removed[string.sub(f, 2)] then
      local bare = skeleton(v)
      if bare and bare ~= v then
        redis.call('HSET', data, f, bare)
        dropped = dropped + 1
      end
    end
  end
  return dropped
end

-- Remove every element observed here (inserts made concurrently elsewhere stay).
local function delete(data)
  local all = redis.call('HGETALL', data)
  local removed = removed_ids(all)
  local any = false
  for j = 1, #all, 2 do
    local f = all[j]
    if string.sub(f, 1, 1) == '.' and not removed[string.sub(f, 2)] then
      redis.call('HSET', data, '~' .. string.sub(f, 2), '1')
      any = true
    end
  end
  return any
end

-- Whether a log with every element removed can go, and its clock, which
-- the shard's clock base must keep ('s', clock or false).
local function retire(data, _)
  local all = redis.call('HGETALL', data)
  local removed = removed_ids(all)
  for j = 1, #all, 2 do
    local f = all[j]
    if string.sub(f, 1, 1) == '.' and not removed[string.sub(f, 2)] then return nil end
  end
  return 's', redis.call('HGET', data, '^') or false
end

-- keeps_index: a log's change index entry is its version, which the log cache
-- of every process compares (types/sequence.py): collection never trims it.
return {join = join, delete = delete, collect = collect, retire = retire, keeps_index = true}
