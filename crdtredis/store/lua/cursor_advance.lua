-- cursor_advance.lua: move this region's cursor for one peer forward, never back.
-- KEYS[1]  the cursor hash (crdt#cursor:<peer>)
-- ARGV[1]  the peer incarnation the versions belong to, ARGV[2] the peer's
--          shard count, ARGV[3] this region's incarnation the pass runs in,
--          then shard, version, shard, version, ...
-- A cursor kept for another peer incarnation, shard count or local
-- incarnation is dropped first (its versions mean nothing any more). Each
-- shard's version becomes the larger of the stored and the given one, so two
-- passes finishing out of order cannot move a cursor back.
local stored = redis.call('HMGET', KEYS[1], 'inc', 'shards', 'local')
if stored[1] ~= ARGV[1] or stored[2] ~= ARGV[2] or stored[3] ~= ARGV[3] then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'inc', ARGV[1], 'shards', ARGV[2], 'local', ARGV[3])
end
for i = 4, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if not current or tonumber(ARGV[i + 1]) > tonumber(current) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 1
