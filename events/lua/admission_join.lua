-- One join: ARGV registrant id, session id, now (ms), routing region, report region,
-- sweep limit, client address, its rate (tokens/s, 0 = no limit) and burst.
-- Answers {status, edge, endpoint, seats taken} ({'busy', '', '', microseconds to wait}).
local rid, session, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local route_region, report_region = ARGV[4], ARGV[5]
local wait = limit_address(ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9]))
if wait > 0 then
  return {'busy', '', '', wait}
end
local cfg = redis.call('HMGET', K_CFG, 'capacity', 'opens_ms', 'ends_ms', 'ttl_ms', 'edge_max',
  'route:' .. route_region, 'route:*')
if not cfg[1] then
  return {'closed', '', '', 0}
end
local cap, opens, ends = tonumber(cfg[1]), tonumber(cfg[2]), tonumber(cfg[3])
local ttl, edge_max = tonumber(cfg[4]), tonumber(cfg[5])
if now < opens then
  return {'early', '', '', 0}
end
if now >= ends then
  return {'ended', '', '', 0}
end
if redis.call('SISMEMBER', K_REVOKED, rid) == 1 then
  if redis.call('HEXISTS', K_SEAT, rid) == 1 then
    release(rid)
  end
  return {'revoked', '', '', 0}
end
sweep(now, ttl, tonumber(ARGV[6]))
-- The routing region's order (itself, then the nearest regions), or every region; kept
-- per region in the config as 'a,b,c', so a join reads two short fields, not the table.
local function regions(text)
  local list = {}
  for r in string.gmatch(text or '', '[^,]+') do
    list[#list + 1] = r
  end
  return list
end
local nearest, everywhere = regions(cfg[6] or cfg[7]), regions(cfg[7])

-- The least-loaded serving edge with room, in the region's order (itself, then the
-- nearest regions); when every edge is at its nominal load, the least loaded anywhere:
-- the seat cap is the promise, an edge's nominal load is only a sizing figure.
local function pick()
  for _, r in ipairs(nearest) do
    local best = redis.call('ZRANGE', cand(r), 0, 0, 'WITHSCORES')
    if best[1] and tonumber(best[2]) < edge_max then
      return best[1], r
    end
  end
  local edge, chosen, low = nil, nil, nil
  for _, r in ipairs(everywhere) do
    local best = redis.call('ZRANGE', cand(r), 0, 0, 'WITHSCORES')
    if best[1] and (low == nil or tonumber(best[2]) < low) then
      edge, chosen, low = best[1], r, tonumber(best[2])
    end
  end
  return edge, chosen
end

local held = redis.call('HGET', K_SEAT, rid)
if held then
  -- The same link again: the seat is kept (a refresh), or handed to the new session (a
  -- second device); the old session learns it on its next heartbeat.
  local status = 'rejoined'
  if held ~= session then
    status = 'taken_over'
    redis.call('HSET', K_SEAT, rid, session)
  end
  redis.call('HINCRBY', K_STATS, status, 1)
  credit(rid, now, ttl, report_region)
  redis.call('ZADD', K_SEEN, now, rid)
  local edge = redis.call('HGET', K_EDGE, rid)
  local region = edge and redis.call('HGET', K_ER, edge)
  if not (region and redis.call('ZSCORE', cand(region), edge)) then
    -- Its edge left service since (replaced or drained): move the seat to a serving one.
    unassign(rid)
    local fresh, fresh_region = pick()
    if fresh then
      assign(rid, fresh, fresh_region)
    end
    edge = fresh
  end
  if not edge then
    return {'preparing', '', '', redis.call('ZCARD', K_SEEN)}
  end
  return {status, edge, redis.call('HGET', K_EP, edge) or '', redis.call('ZCARD', K_SEEN)}
end

local count = redis.call('ZCARD', K_SEEN)
if count >= cap then
  redis.call('HINCRBY', K_STATS, 'full', 1)
  return {'full', '', '', count}
end
local edge, region = pick()
if not edge then
  return {'preparing', '', '', count}
end
redis.call('HSET', K_SEAT, rid, session)
redis.call('ZADD', K_SEEN, now, rid)
assign(rid, edge, region)
if redis.call('HSETNX', K_ATT, rid, 1) == 1 then
  redis.call('HINCRBY', K_ATTREG, report_region, 1)
end
redis.call('HINCRBY', K_STATS, 'admitted', 1)
count = count + 1
record(now, count)
return {'admitted', edge, redis.call('HGET', K_EP, edge) or '', count}
