-- A player's heartbeat: ARGV registrant id, session id, now (ms), report region.
-- Answers {status, edge, endpoint, seats taken}: ok, taken_over (another device has the
-- seat), released (no heartbeat for the seat TTL: join again), revoked, ended, closed.
-- No per-address limit: every viewer behind one office NAT sends one every 30 s, and a
-- heartbeat that holds no seat changes nothing.
local rid, session, now, report_region = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local cfg = redis.call('HMGET', K_CFG, 'capacity', 'ends_ms', 'ttl_ms')
if not cfg[1] then
  return {'closed', '', '', 0}
end
local ends, ttl = tonumber(cfg[2]), tonumber(cfg[3])
local held = redis.call('HGET', K_SEAT, rid)
if now >= ends then
  if held == session then
    credit(rid, now, ttl, report_region)
    release(rid)
  end
  return {'ended', '', '', 0}
end
if redis.call('SISMEMBER', K_REVOKED, rid) == 1 then
  if held then
    release(rid)
  end
  return {'revoked', '', '', 0}
end
if not held then
  return {'released', '', '', 0}
end
if held ~= session then
  return {'taken_over', '', '', 0}
end
local last = tonumber(redis.call('ZSCORE', K_SEEN, rid) or '0')
if now - last > ttl then
  -- Stale, not swept yet: the same answer the sweep would have given.
  release(rid)
  return {'released', '', '', 0}
end
credit(rid, now, ttl, report_region)
redis.call('ZADD', K_SEEN, now, rid)
local count = redis.call('ZCARD', K_SEEN)
record(now, count)
local edge = redis.call('HGET', K_EDGE, rid) or ''
return {'ok', edge, edge ~= '' and (redis.call('HGET', K_EP, edge) or '') or '', count}
