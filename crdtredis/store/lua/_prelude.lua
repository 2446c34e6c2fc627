-- _prelude.lua: helpers shared by every crdtredis write script.
-- It is prepended to each script when the script is loaded; it has no KEYS or
-- ARGV of its own. Every write script takes KEYS[1] = the shard's head hash and
-- KEYS[2] = the shard's change index, and ARGV[1] = the writer's incarnation.

-- Refuse to write for a process whose idea of the region's identity is out of
-- date (its Redis was wiped and re-created): 'NOSHARD' when the shard has no
-- head yet, 'STALE' when the head belongs to another incarnation. Refuse too
-- when the shard's change index is not a sorted set ('BADINDEX'): recording
-- the change would fail after the object was written, and scripts do not
-- roll back, so this is checked before any write.
local function crdt_guard(head, changes, incarnation)
  local found = redis.call('HGET', head, 'inc')
  if not found then return 'NOSHARD' end
  if found ~= incarnation then return 'STALE' end
  local kind = redis.call('TYPE', changes).ok
  if kind ~= 'zset' and kind ~= 'none' then return 'BADINDEX' end
  return false
end

local function crdt_fail(code, detail)
  return redis.error_reply('CRDT ' .. code .. ' ' .. (detail or ''))
end

-- Record that the objects named in the list `names` changed: each gets the
-- next version of its shard, in the order given, in the change index.
-- Returns the last version given (false when `names` is empty).
local function crdt_record(head, changes, names)
  if #names == 0 then return false end
  local last = redis.call('HINCRBY', head, 'v', #names)
  local args = {}
  for i, name in ipairs(names) do
    args[2 * i - 1] = last - #names + i
    args[2 * i] = name
  end
  redis.call('ZADD', changes, unpack(args))
  return last
end

-- The exact sum of decimal slot strings, as a decimal string (two base-1e9
-- halves, so sums past 2^53 stay exact).
local function crdt_sum(values)
  local high, low = 0, 0
  for _, v in ipairs(values) do
    if #v <= 9 then
      low = low + tonumber(v)
    else
      high = high + tonumber(string.sub(v, 1, #v - 9))
      low = low + tonumber(string.sub(v, -9))
    end
  end
  high = high + math.floor(low / 1000000000)
  low = low % 1000000000
  if high == 0 then return string.format('%d', low) end
  return string.format('%d%09d', high, low)
end

-- The stored type code of an object, or false when it does not exist yet.
local function crdt_type(data)
  return redis.call('HGET', data, '')
end

-- a > b for decimal strings of non-negative integers without leading zeros
-- (Lua numbers are doubles and cannot hold every 64-bit slot exactly).
local function crdt_greater(a, b)
  if #a ~= #b then return #a > #b end
  return a > b
end

-- A decimal string of a non-negative integer as two exact Lua numbers: the
-- digits above the last nine, and the last nine (its base-1e9 halves).
local function crdt_halves(s)
  if #s <= 9 then return 0, tonumber(s) end
  return tonumber(string.sub(s, 1, #s - 9)), tonumber(string.sub(s, -9))
end

-- Whether a + b fits in a signed 64-bit integer, for decimal strings a and b
-- of non-negative integers, computed exactly in two base-1e9 halves.
local function crdt_fits(a, b)
  if #a < 18 and #b < 18 then return true end
  local ah, al = crdt_halves(a)
  local bh, bl = crdt_halves(b)
  local low = al + bl
  local high = ah + bh + math.floor(low / 1000000000)
  low = low % 1000000000
  if high ~= 9223372036 then return high < 9223372036 end
  return low <= 854775807
end

-- HMGET and HSET over any number of fields: Lua's unpack() stops at a few
-- thousand values, so long lists go in blocks (a counter may have thousands
-- of replica slots, a counter map hundreds of thousands).
local CRDT_BLOCK = 1000

local function crdt_hmget_all(data, names)
  local values = {}
  for first = 1, #names, CRDT_BLOCK do
    local block = redis.call('HMGET', data, unpack(names, first, math.min(first + CRDT_BLOCK - 1, #names)))
    for j = 1, #block do values[first + j - 1] = block[j] end
  end
  return values
end

local function crdt_hset_all(data, items)
  for first = 1, #items, 2 * CRDT_BLOCK do
    redis.call('HSET', data, unpack(items, first, math.min(first + 2 * CRDT_BLOCK - 1, #items)))
  end
end

-- Whether hash field `f` of a counter or counter map is a slot ('<replica>',
-- '-<replica>', a map's '<replica>,<field>'): not its type, expiry, birth or a
-- floor ('~' before a slot).
local function crdt_is_slot(f)
  local mark = string.sub(f, 1, 1)
  return f ~= '' and mark ~= '~' and mark ~= '@' and mark ~= '*'
end

-- The slots and the floors of a counter's or counter map's HGETALL reply, each
-- by slot field; nil and the first field that is no integer when one is corrupt.
local function crdt_slots_of(all)
  local slots, floors = {}, {}
  for j = 1, #all, 2 do
    local f, v = all[j], all[j + 1]
    if f ~= '' and f ~= '@' and f ~= '*' then
      if not string.match(v, '^%d+$') then return nil, f end
      if string.sub(f, 1, 1) == '~' then floors[string.sub(f, 2)] = v else slots[f] = v end
    end
  end
  return slots, floors
end

-- A counter's (or counter map's) delete, what is observed here reset: every
-- slot's value becomes its floor (a concurrent increment elsewhere raises its
-- slot above the floor and counts). False when nothing was above its floor,
-- 'CORRUPT <field>' (before any write) for a slot that is no integer.
local function crdt_reset_slots(data)
  local slots, floors = crdt_slots_of(redis.call('HGETALL', data))
  if not slots then return 'CORRUPT ' .. floors end
  local updates = {}
  for f, v in pairs(slots) do
    if not floors[f] or crdt_greater(v, floors[f]) then
      updates[#updates + 1] = '~' .. f
      updates[#updates + 1] = v
    end
  end
  if #updates == 0 then return false end
  crdt_hset_all(data, updates)
  return true
end

-- Whether a deleted counter or counter map can go (every slot at its floor:
-- nothing visible), and this replica's largest own slot (its '<replica>' or
-- '-<replica>' slots, and a map's '<replica>,<field>' ones), which the shard's
-- counter base must keep: ('c', slot or false); nil while anything is visible.
local function crdt_retire_slots(data, replica)
  local all = redis.call('HGETALL', data)
  local fields = {}
  for j = 1, #all, 2 do fields[all[j]] = all[j + 1] end
  local own = false
  for f, v in pairs(fields) do
    if crdt_is_slot(f) then
      local floor = fields['~' .. f]
      if not floor or crdt_greater(v, floor) then return nil end
      local id = f
      if string.sub(f, 1, 1) == '-' then id = string.sub(f, 2) end
      local comma = string.find(id, ',', 1, true)
      if comma then id = string.sub(id, 1, comma - 1) end
      if id == replica and (not own or crdt_greater(v, own)) then own = v end
    end
  end
  return 'c', own
end

-- Write the type field of an object that a join or an update has just
-- created (`create` is its type code; false for an object that existed).
local function crdt_created(data, create)
  if create then redis.call('HSET', data, '', create) end
end

-- Renew a region's identity hash (a restarted server, see identity.lua; a
-- partial loss, see identity_renew.lua): a new incarnation, the epoch one
-- higher, the shard marks dropped, and a new replica id: the first of
-- `candidates` (ids separated by commas) that the registry ('r:<id>') does
-- not hold yet, registered to the new incarnation.
local function crdt_renew_identity(identity, server, incarnation, candidates)
  for _, field in ipairs(redis.call('HKEYS', identity)) do
    if string.sub(field, 1, 6) == 'shard:' then redis.call('HDEL', identity, field) end
  end
  local region = redis.call('HGET', identity, 'region')
  local epoch = tonumber(redis.call('HGET', identity, 'epoch') or '1') + 1
  local replica = nil
  for candidate in string.gmatch(candidates, '[^,]+') do
    if redis.call('HEXISTS', identity, 'r:' .. candidate) == 0 then
      replica = candidate
      break
    end
  end
  if not replica then return redis.error_reply('ERR every replica id offered is taken') end
  redis.call('HSET', identity, 'server', server, 'incarnation', incarnation,
    'replica', replica, 'r:' .. replica, region .. '.' .. incarnation,
    'epoch', string.format('%d', epoch))
  return epoch
end

-- Expiry settings '<expire_ms>/<set_ms>/<replica>' (crdtredis/store/expiry.py):
-- the parts of one, or nil for none.
local function crdt_setting(text)
  if not text then return nil end
  local expire, set, replica = string.match(text, '^(%d+)/(%d+)/(.+)$')
  return {expire = expire, set = tonumber(set), replica = replica}
end

-- Whether setting a comes after setting b in last-writer-wins order (the
-- later set_ms, then the larger replica id, then the later expiry: a total
-- order, the same as ExpirySetting's); no setting comes first.
local function crdt_later(a, b)
  if not a then return false end
  if not b then return true end
  local sa, sb = crdt_setting(a), crdt_setting(b)
  if sa.set ~= sb.set then return sa.set > sb.set end
  if sa.replica ~= sb.replica then return sa.replica > sb.replica end
  return crdt_greater(sa.expire, sb.expire)
end

-- Whether `death` (an expiry that ended a life of the name) ended the life
-- with this `birth` (the death it was born after) and own expiry `expiry`:
-- born before that death, and no expiry setting of its own after it.
local function crdt_ended(death, birth, expiry)
  return death ~= nil and death ~= false and crdt_later(death, birth) and not crdt_later(expiry, death)
end

-- Give an object created now by a local write the death of its name's
-- previous life, if it had one (the grave in the shard head), as its birth.
local function crdt_born(head, data, name)
  local grave = redis.call('HGET', head, '~' .. name)
  if grave then redis.call('HSET', data, '*', grave) end
end

-- The derived index beside an object (a counter map's, see _index.lua):
-- '<prefix>#{<tag>}:top:<name>' for the data key '<prefix>:{<tag>}:<name>',
-- in the same hash slot. Whatever deletes, expires or persists an object
-- does the same to it, so an index never outlives its object.
local function crdt_index_key(data)
  local prefix, tag, name = string.match(data, '^([^:]+):({[^}]*}):(.*)$')
  return prefix .. '#' .. tag .. ':top:' .. name
end

-- Delete an object and its derived index.
local function crdt_drop(data)
  redis.call('DEL', data, crdt_index_key(data))
end

-- Carry out an object's winning expiry setting `expiry` at time `now` (ms,
-- a decimal string): PERSIST for none; otherwise the name's grave becomes
-- it (when later), and the object is deleted when the time has passed, or
-- else expires then (PEXPIREAT); its derived index alike. Returns true when
-- the object was deleted.
local function crdt_settle(head, data, name, expiry, now)
  local index = crdt_index_key(data)
  local setting = crdt_setting(expiry)
  if not setting or setting.expire == '0' then
    redis.call('PERSIST', data)
    redis.call('PERSIST', index)
    return false
  end
  local grave_field = '~' .. name
  if crdt_later(expiry, redis.call('HGET', head, grave_field)) then
    redis.call('HSET', head, grave_field, expiry)
  end
  if tonumber(setting.expire) <= tonumber(now) then
    crdt_drop(data)
    return true
  end
  redis.call('PEXPIREAT', data, setting.expire)
  redis.call('PEXPIREAT', index, setting.expire)
  return false
end
