-- _merge.lua: join replicated state into objects of one shard (the CRDT merge).
-- The body of the merge script: the registry (crdtredis/store/types/registry.py)
-- puts the prelude and every stored type's join in front of it, as
-- joins[<type code>] = a table of
--   read(data, fields) -> the stored type code (false: new), a context
--       (optional; the default reads field '' alone)
--   join(data, fields, context, create) -> true (changed), false (nothing
--       new) or a refusal 'CODE detail'; `create` is the type code when the
--       object is new (false otherwise), which the join writes with its change
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3..] the objects' hashes
-- ARGV[1]  incarnation, ARGV[2] a JSON array with one entry per object, in
--          the order of KEYS[3..]: [name, type code, [field, value, ...]],
--          fields in the layout's encoding, already validated by the caller
--          (one string instead of thousands of arguments: far cheaper to send)
-- Returns  one entry per object: 1 changed (and recorded in the index with a
--          new version), 0 nothing new (nothing recorded: no ping-pong), an
--          error string 'WRONGTYPE <stored>' / 'CONFLICT <field>' for an
--          object left untouched, 'OBSTRUCTED <redis type>' when the local
--          key is no hash, or 'FAILED <error>' when Redis itself failed on
--          the object (try again).
local guard = crdt_guard(KEYS[1], KEYS[2], ARGV[1])
if guard then return crdt_fail(guard) end

-- Join one object; returns 1 (changed), 0 (nothing new) or a refusal string.
local function merge_one(data, code, fields)
  local type_join = joins[code]
  if not type_join then return 'WRONGTYPE unknown type code ' .. code end
  local stored, context
  if type_join.read then
    stored, context = type_join.read(data, fields)
  else
    stored = crdt_type(data)
  end
  if stored and stored ~= code then return 'WRONGTYPE ' .. stored end
  if #fields == 0 then return 0 end
  local outcome = type_join.join(data, fields, context, not stored and code)
  if type(outcome) == 'string' then return outcome end
  return outcome and 1 or 0
end

local results, changed = {}, {}
local objects = cjson.decode(ARGV[2])
for i = 3, #KEYS do
  local name, code, fields = objects[i - 2][1], objects[i - 2][2], objects[i - 2][3]
  local ok, outcome = pcall(merge_one, KEYS[i], code, fields)
  if not ok then
    local message = type(outcome) == 'table' and outcome.err or tostring(outcome)
    if string.find(message, 'WRONGTYPE', 1, true) then
      -- Not a hash at all, a local obstacle: refused before anything was
      -- written; the caller keeps the object to try again once it is gone.
      results[#results + 1] = 'OBSTRUCTED ' .. redis.call('TYPE', KEYS[i]).ok
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
