-- _index.lua: the derived index of counter maps, shared by the scripts that
-- write them (prepended after _prelude.lua; no KEYS or ARGV of its own).
-- A counter map's hash ('cm', crdtredis/store/types/countermap.py) holds one
-- slot per replica per field: '<replica>,<field>' counts up, '-<replica>,<field>'
-- down, '~' before either is the floor a delete observed. Its index is a
-- sorted set beside it, '<prefix>#{<tag>}:top:<name>' (same hash slot): each
-- field whose count is not 0 scored -count, so ZRANGE from 0 gives the largest
-- counts first and equal counts in field-name order; member '' (no field is
-- empty) scored -total marks a complete index. The index is derived: never
-- replicated, rebuilt from the hash whenever its mark is missing. Every
-- script takes the mark out before it writes and puts it back when done, so
-- one that fails halfway (out of memory) leaves an index the next read
-- rebuilds. Scores are doubles: counts are exact up to 2^53.

-- A slot field's sign ('' up, '-' down) and map field, its '~' taken off.
local function crdt_slot_parts(f)
  local sign = ''
  if string.sub(f, 1, 1) == '-' then sign, f = '-', string.sub(f, 2) end
  return sign, string.sub(f, string.find(f, ',', 1, true) + 1)
end

-- max(0, a - b) for decimal slot strings (nil counts 0), as a Lua number:
-- computed in base-1e9 halves, so it is exact whenever the result is below
-- 2^53, however large the slots themselves (a slot seeded at a shard's base
-- may stand far above its count).
local function crdt_above(a, b)
  a, b = a or '0', b or '0'
  if not crdt_greater(a, b) then return 0 end
  local ah, al = crdt_halves(a)
  local bh, bl = crdt_halves(b)
  return (ah - bh) * 1000000000 + (al - bl)
end

-- What one slot adds to its field's count: its value above its floor, signed.
local function crdt_slot_live(sign, slot, floor)
  local n = crdt_above(slot, floor)
  if sign == '-' then return -n end
  return n
end

-- An index (re)created for a map with an expiry gets the same expiry (the
-- map's winning setting, '@'), so it never outlives its map.
local function crdt_index_expire(data, index)
  if redis.call('PTTL', index) ~= -1 then return end
  local setting = crdt_setting(redis.call('HGET', data, '@'))
  if setting and setting.expire ~= '0' then
    redis.call('PEXPIREAT', index, setting.expire)
  end
end

-- Rebuild the index of `data` from the whole hash.
local function crdt_index_rebuild(data)
  local index = crdt_index_key(data)
  redis.call('DEL', index)
  local all = redis.call('HGETALL', data)
  local fields = {}
  for j = 1, #all, 2 do fields[all[j]] = all[j + 1] end
  local counts, total = {}, 0
  for f, v in pairs(fields) do
    if crdt_is_slot(f) then
      local sign, field = crdt_slot_parts(f)
      local live = crdt_slot_live(sign, v, fields['~' .. f])
      counts[field] = (counts[field] or 0) + live
      total = total + live
    end
  end
  local block = {}
  for field, n in pairs(counts) do
    if n ~= 0 then
      block[#block + 1] = string.format('%.17g', -n)
      block[#block + 1] = field
      if #block >= 2000 then
        redis.call('ZADD', index, unpack(block))
        block = {}
      end
    end
  end
  if #block > 0 then redis.call('ZADD', index, unpack(block)) end
  redis.call('ZADD', index, string.format('%.17g', -total), '')
  crdt_index_expire(data, index)
end

-- Open the index of `data` for a write: its key and the map's total, the mark
-- taken out; the total is nil when the index must be rebuilt after the write.
-- `fresh`: the map is new (an index left from an earlier life goes).
local function crdt_index_open(data, fresh)
  local index = crdt_index_key(data)
  if fresh then
    redis.call('DEL', index)
    return index, 0
  end
  local mark = redis.call('ZSCORE', index, '')
  if not mark then return index, nil end
  redis.call('ZREM', index, '')
  return index, -tonumber(mark)
end

-- Add `delta` to one field's count in an open index.
local function crdt_index_add(index, field, delta)
  if delta == 0 then return end
  local score = redis.call('ZINCRBY', index, string.format('%.17g', -delta), field)
  if tonumber(score) == 0 then redis.call('ZREM', index, field) end
end

-- Close an index opened with crdt_index_open: the mark back with the new
-- total, or a rebuild when it was missing.
local function crdt_index_close(data, index, total)
  if total == nil then return crdt_index_rebuild(data) end
  redis.call('ZADD', index, string.format('%.17g', -total), '')
  crdt_index_expire(data, index)
end
