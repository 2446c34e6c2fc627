-- joins/gset.lua: the join of a GSet (union), a part of the merge and delete scripts.
-- Fields: '.' .. element = '1'. join(data, fields, _, create) -> changed.
local function join(data, fields, _, create)
  local changed = false
  for j = 1, #fields, 2 do
    if redis.call('HSETNX', data, fields[j], fields[j + 1]) == 1 then changed = true end
  end
  if changed then crdt_created(data, create) end
  return changed
end

return {join = join}
