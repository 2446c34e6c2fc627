-- map_read.lua: read a counter map through its derived index (_index.lua),
-- rebuilding the index first when its mark is missing.
-- KEYS[1]  the map's hash
-- ARGV[1]  type code ('cm'), ARGV[2] what to read: 'top' (ARGV[3] the count n),
--          'get' (ARGV[3..] fields) or 'size'
-- Returns  'top': {field, count, ...} for the n largest counts, largest first
--          and equal counts in field-name order; 'get': one count per field;
--          'size': {fields with a count other than 0, total}. Counts are
--          decimal strings. A missing map reads as empty.
-- Errors   WRONGTYPE <stored code>.
local data, mode = KEYS[1], ARGV[2]
local code = redis.call('HGET', data, '')
if code and code ~= ARGV[1] then return crdt_fail('WRONGTYPE', code) end
local index = crdt_index_key(data)
if not code then
  if mode == 'get' then
    local zeros = {}
    for i = 3, #ARGV do zeros[#zeros + 1] = '0' end
    return zeros
  end
  if mode == 'size' then return {'0', '0'} end
  return {}
end
if not redis.call('ZSCORE', index, '') then crdt_index_rebuild(data) end

local function count(score)
  if not score then return '0' end
  return string.format('%d', -tonumber(score))
end

if mode == 'get' then
  local counts = {}
  for i = 3, #ARGV do counts[#counts + 1] = count(redis.call('ZSCORE', index, ARGV[i])) end
  return counts
end
if mode == 'size' then
  return {string.format('%d', redis.call('ZCARD', index) - 1), count(redis.call('ZSCORE', index, ''))}
end
local n = tonumber(ARGV[3])
if n <= 0 then return {} end
local ranked = redis.call('ZRANGE', index, 0, n, 'WITHSCORES')
local top = {}
for j = 1, #ranked, 2 do
  if ranked[j] ~= '' and #top < 2 * n then
    top[#top + 1] = ranked[j]
    top[#top + 1] = count(ranked[j + 1])
  end
end
return top
