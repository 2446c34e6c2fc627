-- joins/twophase_set.lua: the join of a 2P-Set, a part of the merge and delete scripts.
-- Fields: '.' .. element = 'a' (added) or 'r' (removed, for good): a removal
-- wins over an add. join(data, fields, _, create) -> changed.
local function join(data, fields, _, create)
  local changed = false
  for j = 1, #fields, 2 do
    local f, v = fields[j], fields[j + 1]
    local current = redis.call('HGET', data, f)
    if not current or (v == 'r' and current ~= 'r') then
      redis.call('HSET', data, f, v)
      changed = true
    end
  end
  if changed then crdt_created(data, create) end
  return changed
end

-- Remove every member for good (a two-phase set: none can come back).
local function delete(data)
  local all = redis.call('HGETALL', data)
  local removed = false
  for j = 1, #all, 2 do
    if string.sub(all[j], 1, 1) == '.' and all[j + 1] == 'a' then
      redis.call('HSET', data, all[j], 'r')
      removed = true
    end
  end
  return removed
end

return {join = join, delete = delete}
