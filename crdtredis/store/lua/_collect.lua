-- _collect.lua: drop what every peer has merged from objects of one shard.
-- The body of the collect script: the registry puts the prelude and every
-- stored type's join file in front of it, as joins[<type code>], which may
-- offer
--   collect(data) -> how many tombstones it dropped (an OR-Set's removed
--       tags: no region holds them live any more, and each replica's add
--       counter stays, so no tag is ever reused);
--   retire(data, replica) -> nil while the object shows anything, else the
--       kind of number this replica must never reuse ('c' counter slot, 't'
--       add counter, 's' log clock) and its value here (false: none). The
--       object then goes whole, and the shard's base for that kind ('base:<kind>'
--       in the head) keeps the largest such number: a replica's own slot,
--       add counter or log clock starts there when it is next written in an
--       object (counter_add, orset_update, sequence_update), so remains of
--       the collected object elsewhere never swallow or clash with new writes.
--       Objects with a birth ('*') or an expiry ('@') are not removed whole.
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3..] the objects' hashes
-- ARGV[1]  the incarnation the frontier was read in, ARGV[2] the shard's
--          frontier, ARGV[3] this region's replica id, ARGV[4] 'trim' to
--          trim the index entries too, 'keep' not to (objects shown merged
--          everywhere through a middle region: a peer that never pulled them
--          here still reads them through the index), ARGV[5..] the objects'
--          names, in KEYS order
-- Returns  {tombstones dropped, objects removed, index entries trimmed}. An
--          object is looked at only when its last change is at or below the
--          frontier (every peer has merged everything it holds). Its change
--          index entry then goes too (but a log's, which is its version for
--          the log cache, while the log exists: 'keeps_index'): no configured
--          peer needs it any more, and the head's 'trim' keeps the highest version
--          dropped, so a puller whose cursor is below it (new, or reset) knows
--          the index no longer names everything and resyncs the shard by
--          scanning its keys. Nothing is recorded: collection is not a change
--          peers need, and recording would send it back and forth.
if redis.call('HGET', KEYS[1], 'inc') ~= ARGV[1] then return {0, 0, 0} end
local frontier, replica, dropped, removed = tonumber(ARGV[2]), ARGV[3], 0, 0
local trimmed, highest, trim_index = 0, 0, ARGV[4] == 'trim'
for i = 3, #KEYS do
  local data, name = KEYS[i], ARGV[i + 2]
  local version = redis.call('ZSCORE', KEYS[2], name)
  -- A key of another kind under the name (see 'obstructed' in sync) is no
  -- object: its entry goes, and it stops nothing else in the shard.
  local code = redis.pcall('HGET', data, '')
  if type(code) == 'table' then code = false end
  local type_join = code and joins[code]
  version = version and tonumber(version)
  if trim_index and version and version <= frontier
      and not (type_join and type_join.keeps_index) then
    redis.call('ZREM', KEYS[2], name)
    trimmed = trimmed + 1
    if version > highest then highest = version end
  end
  if version and version <= frontier and type_join then
    if type_join.collect then dropped = dropped + type_join.collect(data) end
    -- An object born after an expiry ('*') keeps its hash: its birth is what
    -- tells its life from the old one in regions that still hold that; an
    -- object with an expiry goes when it expires, expiry and all.
    local life = redis.call('HMGET', data, '*', '@')
    local expiring = life[2] and crdt_setting(life[2]).expire ~= '0'
    local kind, own = nil, nil
    if type_join.retire and not life[1] and not expiring then
      kind, own = type_join.retire(data, replica)
    end
    if kind then
      local field = 'base:' .. kind
      if own and not crdt_greater(redis.call('HGET', KEYS[1], field) or '0', own) then
        redis.call('HSET', KEYS[1], field, own)
      end
      crdt_drop(data)
      if trim_index and type_join.keeps_index then
        redis.call('ZREM', KEYS[2], name)
        trimmed = trimmed + 1
        if version > highest then highest = version end
      end
      removed = removed + 1
    end
  end
end
if highest > tonumber(redis.call('HGET', KEYS[1], 'trim') or '0') then
  redis.call('HSET', KEYS[1], 'trim', string.format('%d', highest))
end
return {dropped, removed, trimmed}
