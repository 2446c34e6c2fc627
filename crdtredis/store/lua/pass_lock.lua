-- pass_lock.lua: refresh or release the lock one sync pass holds on a peer.
-- KEYS[1]  the lock key (crdt#lock:<peer>)
-- ARGV[1]  'refresh' or 'release', ARGV[2] the holder's token,
--          ARGV[3] the new time to live in milliseconds (refresh)
-- Returns  1 when the caller still held the lock, 0 when it had lost it.
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
if ARGV[1] == 'release' then
  redis.call('DEL', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
