-- collect_graves.lua: drop graves (and their change index entries) every peer has merged.
-- KEYS[1]  shard head, KEYS[2] shard change index, KEYS[3..] the data keys of
--          the candidates, in ARGV order
-- ARGV[1]  the incarnation the frontier was read in, ARGV[2] the shard's
--          frontier (every peer has merged this shard up to it), ARGV[3] now
--          minus the horizon (Unix ms), then name, grave, ... as read
-- Returns  how many graves were dropped. A grave goes only if it is unchanged,
--          the name is gone (no new life), its time is a horizon past, and the
--          name's last change here (if any) is at or below the frontier: every
--          peer has then pulled the expiry or the grave, so none can bring the
--          name back or needs the grave to end its copy. The horizon keeps it
--          for the births of new lives meanwhile: a life born here without
--          the grave would be taken for the old one by regions that still
--          hold theirs.
if redis.call('HGET', KEYS[1], 'inc') ~= ARGV[1] then return 0 end
local frontier, before, dropped = tonumber(ARGV[2]), tonumber(ARGV[3]), 0
local highest = 0
for i = 4, #ARGV, 2 do
  local name, grave = ARGV[i], ARGV[i + 1]
  local setting = crdt_setting(grave)
  local version = redis.call('ZSCORE', KEYS[2], name)
  if setting and redis.call('HGET', KEYS[1], '~' .. name) == grave
      and tonumber(setting.expire) <= before
      and redis.call('EXISTS', KEYS[3 + (i - 4) / 2]) == 0
      and (not version or tonumber(version) <= frontier) then
    redis.call('HDEL', KEYS[1], '~' .. name)
    if version then
      redis.call('ZREM', KEYS[2], name)
      if tonumber(version) > highest then highest = tonumber(version) end
    end
    dropped = dropped + 1
  end
end
-- What leaves the index is at or below the trim mark (see _collect.lua).
if highest > tonumber(redis.call('HGET', KEYS[1], 'trim') or '0') then
  redis.call('HSET', KEYS[1], 'trim', string.format('%d', highest))
end
return dropped
