-- survey.lua: what a sync pass reads first from a peer, in one round trip, read only.
-- Runs on the PEER (a single server, never a cluster) under the puller's read access.
-- KEYS[1]  the peer's identity hash (crdt#region)
-- KEYS[2]  the peer's cursor on the puller (crdt#cursor:<puller>)
-- KEYS[3..] the peer's shard head and change index, in pairs, shard by shard
-- ARGV[1]  entries listed per shard at most, ARGV[2] most names whose states are
--          read here (0: none), ARGV[3] most fields (over all of them) read here,
--          ARGV[4] the grave field prefix, then for each
--          shard the puller's cursor ('-': no page wanted there) and the shard's
--          data key prefix ('<prefix>:{<tag>}:'), in pairs
-- Returns  {identity, cursor, heads, pages, states}: HGETALL replies as flat
--          lists; heads per shard {HMGET v trim, newest entry}; pages per shard
--          the entries past the cursor, oldest first; states nil (too many
--          names or fields, or nothing to read) or per listed name {'h', fields or
--          the error of a key of another kind} or {'g', grave or false} (gone).
-- A read that fails (a key of another kind) is {'!', error, '!'} in its place, so
-- one corrupt key spoils only what it is part of, as with a pipeline. Data
-- keys are derived from the listed names, which a single server allows.
local function try(...)
  local reply = redis.pcall(...)
  if type(reply) == 'table' and reply.err then return {'!', reply.err, '!'} end
  return reply
end

local limit, cap, budget, grave = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local shards = (#KEYS - 2) / 2
local heads, pages, listed = {}, {}, {}
for s = 1, shards do
  local head, changes = KEYS[1 + 2 * s], KEYS[2 + 2 * s]
  local after, data = ARGV[3 + 2 * s], ARGV[4 + 2 * s]
  pages[s] = {}
  if after ~= '-' then
    local page = redis.pcall('ZRANGEBYSCORE', changes, '(' .. after, '+inf', 'WITHSCORES', 'LIMIT', 0, limit)
    if type(page) == 'table' and page.err then
      pages[s] = {'!', page.err, '!'}
    else
      pages[s] = page
      for i = 1, #page, 2 do
        listed[#listed + 1] = {page[i], data, head}
      end
    end
  end
  heads[s] = {try('HMGET', head, 'v', 'trim'), try('ZREVRANGE', changes, 0, 0, 'WITHSCORES')}
end

-- The objects are read only when few and small: a script holds the peer's Redis
-- until it returns, so a large page is read by the pass in pipelines instead.
local states = false
if #listed > 0 and #listed <= cap then
  local fields = 0
  for _, entry in ipairs(listed) do
    local size = redis.pcall('HLEN', entry[2] .. entry[1])
    if type(size) ~= 'number' then
      -- another kind of key costs one error; a size that cannot be read, too many
      size = string.find(tostring(size.err), 'WRONGTYPE', 1, true) and 1 or budget + 1
    end
    fields = fields + size
  end
  if fields <= budget then
    states = {}
    for i, entry in ipairs(listed) do
      local found = try('HGETALL', entry[2] .. entry[1])
      if #found == 0 then
        states[i] = {'g', try('HGET', entry[3], grave .. entry[1])}
      else
        states[i] = {'h', found}
      end
    end
  end
end
return {try('HGETALL', KEYS[1]), try('HGETALL', KEYS[2]), heads, pages, states}
