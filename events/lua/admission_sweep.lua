-- Beat's sweep: ARGV now (ms), limit. Releases stale seats; answers how many.
local cfg = redis.call('HMGET', K_CFG, 'ttl_ms')
if not cfg[1] then
  return 0
end
local now = tonumber(ARGV[1])
local released = sweep(now, tonumber(cfg[1]), tonumber(ARGV[2]))
record(now, redis.call('ZCARD', K_SEEN))
return released
