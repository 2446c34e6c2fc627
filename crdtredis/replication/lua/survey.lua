-- survey.lua: what a sync pass reads first from a peer, in one round trip, read only.
-- Runs on the PEER (a single server, never a cluster) under the puller's read access.
-- KEYS[1]  the peer's identity hash (crdt#region)
-- KEYS[2]  the peer's cursor on the puller (crdt#cursor:<puller>)
-- KEYS[3..] the peer's shard head and change index, in pairs, shard by shard
-- ARGV[1]  entries listed per shard at most, ARGV[2] most names whose states are
--          read here (0: none), ARGV[3] the grave field prefix, then for each
--          shard the puller's cursor ('-': no page wanted there) and the shard's
--          data key prefix ('<prefix>:{<tag>}:'), in pairs
-- Returns  {identity, cursor, heads, pages, states}: HGETALL replies as flat
--          lists; heads per shard {HMGET v trim, newest entry}; pages per shard
--          the entries past the cursor, oldest first; states nil (too many
--          names, or nothing to read) or per listed name {'h', fields or
--          the error of a key of another kind} or {'g', grave or false} (gone).
-- A read that fails (a key of another kind) is {'!', error, '!'} in its place, so
-- one corrupt key spoils only what it is part of, as with a pipeline. Data
-- keys are derived from the listed names, which a single server allows.
local function try(...)
  local reply = redis.pcall(...)
  if type(reply) == 'table' and reply.err then return {'!', reply.err, '!'} end
  return reply
end

local limit, cap, grave = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local shards = (#KEYS - 2) / 2
local heads, pages, listed = {}, {}, {}
for s = 1, shards do
  local head, changes = KEYS[1 + 2 * s], KEYS[2 + 2 * s]
  local after, data = ARGV[2 + 2 * s], ARGV[3 + 2 * s]
  pages[s] = {}
  if after ~= '-' then
    pages[s] = try('ZRANGEBYSCORE', changes, '(' .. after, '+inf', 'WITHSCORES', 'LIMIT', 0, limit)
  end
  heads[s] = {try('HMGET', head, 'v', 'trim'), try('ZREVRANGE', changes, 0, 0, 'WITHSCORES')}
  if pages[s][1] ~= '!' then
    for i = 1, #pages[s], 2 do
      listed[#listed + 1] = {pages[s][i], data, head}
    end
  end
end

local states = false
if #listed > 0 and #listed <= cap then
  states = {}
  for i, entry in ipairs(listed) do
    local fields = try('HGETALL', entry[2] .. entry[1])
    if #fields == 0 then
      states[i] = {'g', try('HGET', entry[3], grave .. entry[1])}
    else
      states[i] = {'h', fields}
    end
  end
end
return {try('HGETALL', KEYS[1]), try('HGETALL', KEYS[2]), heads, pages, states}
