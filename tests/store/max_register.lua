-- max_register.lua: the join of the test suite's MaxRegister, a merge-script part.
-- Field 'v' holds the register's value (a canonical decimal); the join keeps the max.
-- join(data, fields, _, create) -> true when the stored value grew.
local function join(data, fields, _, create)
  local current = redis.call('HGET', data, 'v')
  local v = fields[2]
  if current and not crdt_greater(v, current) then return false end
  redis.call('HSET', data, 'v', v)
  crdt_created(data, create)
  return true
end

return {join = join}
