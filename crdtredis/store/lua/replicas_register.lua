-- replicas_register.lua: add a peer's replica ids to this region's registry.
-- KEYS[1]  the identity hash (crdt#region), whose 'r:<id>' fields are the registry
-- ARGV     id, owner, id, owner, ...: replica ids and the '<region>.<incarnation>'
--          each stands for, as the peer's registry holds them
-- Returns  id, owner here, ... for every id registered here to another owner
--          (two incarnations drew the same id): then nothing is added, and
--          the pass that asked merges nothing. Otherwise the missing entries
--          are added and nothing is returned: registry entries never change.
local conflicts, missing = {}, {}
for i = 1, #ARGV, 2 do
  local held = redis.call('HGET', KEYS[1], 'r:' .. ARGV[i])
  if not held then
    missing[#missing + 1] = 'r:' .. ARGV[i]
    missing[#missing + 1] = ARGV[i + 1]
  elseif held ~= ARGV[i + 1] then
    conflicts[#conflicts + 1] = ARGV[i]
    conflicts[#conflicts + 1] = held
  end
end
if #conflicts == 0 and #missing > 0 then redis.call('HSET', KEYS[1], unpack(missing)) end
return conflicts
