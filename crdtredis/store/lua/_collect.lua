-- _collect.lua: drop the tombstones every peer has merged, from objects of one shard.
-- The body of the collect script: the registry puts the prelude and every
-- stored type's join file in front of it, as joins[<type code>]; a type whose
-- tombstones can go once merged everywhere has collect(data) -> how many it
-- dropped (an OR-Set's removed tags: no region holds them live any more, and
-- each replica's add counter stays, so no tag is ever reused).
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3..] the objects' hashes
-- ARGV[1]  the incarnation the frontier was read in, ARGV[2] the shard's
--          frontier, ARGV[3..] the objects' names, in KEYS order
-- Returns  how many tombstones were dropped. An object is collected only when
--          its last change is at or below the frontier (every peer has merged
--          every tombstone it holds). Nothing is recorded: collection is not
--          a change peers need, and recording would send tombstones back.
if redis.call('HGET', KEYS[1], 'inc') ~= ARGV[1] then return 0 end
local frontier, dropped = tonumber(ARGV[2]), 0
for i = 3, #KEYS do
  local version = redis.call('ZSCORE', KEYS[2], ARGV[i])
  local code = redis.call('HGET', KEYS[i], '')
  if version and tonumber(version) <= frontier and code and joins[code]
      and joins[code].collect then
    dropped = dropped + joins[code].collect(KEYS[i])
  end
end
return dropped
