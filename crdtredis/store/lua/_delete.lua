-- _delete.lua: delete one object as this region has observed it (an observed remove).
-- The body of the delete script: the registry (crdtredis/store/types/registry.py)
-- puts the prelude and every stored type's join file in front of it, as
-- joins[<type code>] = a table whose delete(data) removes everything visible
-- (a counter's reset: each slot seen becomes that slot's floor) and returns
-- true when it wrote, false when nothing was visible, or 'CORRUPT <field>'
-- (checked before any write). A type without delete refuses (NODELETE).
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3] the object's hash
-- ARGV[1]  incarnation, ARGV[2] the object's name
-- Returns  1 when deleted (recorded in the index, so peers pull the
--          tombstones), 0 when there was nothing to delete (nothing written).
-- Errors   WRONGTYPE (unknown type code), NODELETE, CORRUPT, and the guard's
--          NOSHARD, STALE, BADINDEX.
local data, name = KEYS[3], ARGV[2]
local code = crdt_type(data)
if not code then return 0 end
local type_join = joins[code]
if not type_join then return crdt_fail('WRONGTYPE', code .. '\t' .. name) end
if not type_join.delete then return crdt_fail('NODELETE', code .. '\t' .. name) end
local guard = crdt_guard(KEYS[1], KEYS[2], ARGV[1])
if guard then return crdt_fail(guard) end
local removed = type_join.delete(data)
if type(removed) == 'string' then
  local refusal, detail = string.match(removed, '^(%S+) (.*)$')
  return crdt_fail(refusal, detail .. '\t' .. name)
end
if not removed then return 0 end
crdt_record(KEYS[1], KEYS[2], {name})
return 1
