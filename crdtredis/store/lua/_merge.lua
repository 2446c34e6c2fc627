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
--          (one string instead of thousands of arguments: far cheaper to send);
--          the life fields '@' (expiry) and '*' (birth) among them are joined
--          here, not by the type. A type code '' with only '@' is a peer's
--          grave: the name's life there ended with that expiry.
-- ARGV[3]  now, in Unix milliseconds of this region's clock
-- Lives (crdtredis/store/expiry.py): an incoming life that a death known
-- here ended (the stored object's birth, or the name's grave) is ignored;
-- a stored life that the incoming object's birth ended is deleted first.
-- An object whose winning expiry has passed is deleted, never written.
-- Returns  one entry per object: 1 changed (and recorded in the index with a
--          new version), 0 nothing new (nothing recorded: no ping-pong), an
--          error string 'WRONGTYPE <stored>' / 'CONFLICT <field>' for an
--          object left untouched, 'OBSTRUCTED <redis type>' when the local
--          key is no hash, or 'FAILED <error>' when Redis itself failed on
--          the object (try again).
local guard = crdt_guard(KEYS[1], KEYS[2], ARGV[1])
if guard then return crdt_fail(guard) end
local head, now = KEYS[1], ARGV[3]

-- The life fields of an incoming field list, and the type's fields.
local function split_life(fields)
  local life, rest = {}, {}
  for j = 1, #fields, 2 do
    local f = fields[j]
    if f == '@' or f == '*' then
      life[f] = fields[j + 1]
    else
      rest[#rest + 1] = f
      rest[#rest + 1] = fields[j + 1]
    end
  end
  return life, rest
end

-- Join the type's fields; returns true/false (changed), or a refusal string.
local function join_type(data, code, fields)
  local type_join = joins[code]
  if not type_join then return 'WRONGTYPE unknown type code ' .. code end
  local stored, context
  if type_join.read then
    stored, context = type_join.read(data, fields)
  else
    stored = crdt_type(data)
  end
  if stored and stored ~= code then return 'WRONGTYPE ' .. stored end
  if #fields == 0 then return false end
  return type_join.join(data, fields, context, not stored and code)
end

-- Join one object; returns 1 (changed), 0 (nothing new) or a refusal string.
local function merge_one(data, name, code, fields)
  local life, rest = split_life(fields)
  local found = redis.call('HMGET', data, '', '@', '*')
  local exists, expiry, birth = found[1], found[2], found[3]
  if exists and code ~= '' and exists ~= code then return 'WRONGTYPE ' .. exists end
  local changed = false
  if exists then
    if crdt_ended(birth, life['*'], life['@']) then return 0 end
    if crdt_ended(life['*'], birth, expiry) then
      crdt_drop(data)
      exists, expiry, birth, changed = false, nil, nil, true
    end
  elseif crdt_ended(redis.call('HGET', head, '~' .. name), life['*'], life['@']) then
    return 0
  end
  if code ~= '' then
    local outcome = join_type(data, code, rest)
    if type(outcome) == 'string' then return outcome end
    changed = changed or outcome
  end
  local winner = expiry
  if crdt_later(life['@'], winner) then winner = life['@'] end
  if not crdt_type(data) then
    -- No object here (a grave alone): keep the later grave, for the births
    -- of new lives, but record nothing: with no copy to end here, there is
    -- nothing to pass on, and recording would send graves back and forth
    -- between regions that collect them at different times.
    local setting = winner and crdt_setting(winner)
    if setting and setting.expire ~= '0' and tonumber(setting.expire) <= tonumber(now)
        and crdt_later(winner, redis.call('HGET', head, '~' .. name)) then
      redis.call('HSET', head, '~' .. name, winner)
    end
    return changed and 1 or 0
  end
  if crdt_later(life['*'], birth) then
    redis.call('HSET', data, '*', life['*'])
    changed = true
  end
  if winner ~= expiry or not exists then
    if winner ~= expiry then redis.call('HSET', data, '@', winner) end
    if winner then crdt_settle(head, data, name, winner, now) end
    changed = changed or winner ~= expiry
  end
  return changed and 1 or 0
end

local results, changed = {}, {}
local objects = cjson.decode(ARGV[2])
for i = 3, #KEYS do
  local name, code, fields = objects[i - 2][1], objects[i - 2][2], objects[i - 2][3]
  local ok, outcome = pcall(merge_one, KEYS[i], name, code, fields)
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
