-- shard_leases.lua: take, refresh or give up leases on shards of one peer, for sync passes.
-- KEYS[1]  the peer's lease hash (crdt#lock:<peer>): shard -> '<expiry ms>|<holder token>'
-- ARGV[1]  'take', 'refresh' or 'release', ARGV[2] the holder's token,
--          ARGV[3] the lease lifetime in milliseconds, ARGV[4..] the shards (take)
-- Returns  take: the shards now held (free, expired, or already the holder's);
--          refresh: how many of the holder's leases were still held and renewed;
--          release: how many it gave up.
-- Time is the server's, so workers on machines whose clocks differ agree. The
-- hash lives as long as the newest lease, so a region with no pass keeps none.
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local ttl, token = tonumber(ARGV[3]), ARGV[2]
local stamp = (now + ttl) .. '|' .. token

local function holder(value)
  local bar = string.find(value, '|', 1, true)
  if not bar then return nil, 0 end
  return string.sub(value, bar + 1), tonumber(string.sub(value, 1, bar - 1)) or 0
end

local done = {}
if ARGV[1] == 'take' then
  for i = 4, #ARGV do
    local value = redis.call('HGET', KEYS[1], ARGV[i])
    local who, expiry = nil, 0
    if value then who, expiry = holder(value) end
    if not value or expiry <= now or who == token then
      redis.call('HSET', KEYS[1], ARGV[i], stamp)
      done[#done + 1] = ARGV[i]
    end
  end
else
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    local who, expiry = holder(all[i + 1])
    if who == token then
      if ARGV[1] == 'release' then
        redis.call('HDEL', KEYS[1], all[i])
        done[#done + 1] = all[i]
      elseif expiry > now then
        redis.call('HSET', KEYS[1], all[i], stamp)
        done[#done + 1] = all[i]
      end
    end
  end
end
if #done > 0 and ARGV[1] ~= 'release' and redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
if ARGV[1] == 'take' then return done end
return #done
