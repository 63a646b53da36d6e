-- Shared by every admission script (prepended by events/services/admission.py).
-- KEYS are the webinar's config and revocation set; every other key (admission.py
-- KEY_NAMES) is derived from the config's name and carries the same hash tag {W-XXXX}, so
-- on Redis Cluster every key a script touches lives in the slot of the keys it declares.
-- (Passing two names instead of fifteen also halves the client's work per join.)
local K_CFG, K_REVOKED = KEYS[1], KEYS[2]
local PREFIX = string.sub(K_CFG, 1, -4) -- "{W-XXXX}:adm:" ("cfg" is 3 characters)
local K_SEAT, K_EDGE, K_SEEN, K_LOAD = PREFIX .. 'seat', PREFIX .. 'edge', PREFIX .. 'seen', PREFIX .. 'load'
local K_RLOAD, K_ER, K_EP, K_STATS = PREFIX .. 'rload', PREFIX .. 'er', PREFIX .. 'ep', PREFIX .. 'stats'
local K_CONC, K_ATT, K_ATTREG = PREFIX .. 'conc', PREFIX .. 'att', PREFIX .. 'attreg'
local K_WATCH, K_REGIONS = PREFIX .. 'watch', PREFIX .. 'regions'

-- Serving edges of one region, scored by their viewers: ZRANGE 0 0 is the least loaded.
local function cand(region)
  return PREFIX .. 'cand:' .. region
end

-- Take a seat's viewer off its edge (the seat itself stays).
local function unassign(rid)
  local edge = redis.call('HGET', K_EDGE, rid)
  if not edge then
    return
  end
  redis.call('HDEL', K_EDGE, rid)
  redis.call('HINCRBY', K_LOAD, edge, -1)
  local region = redis.call('HGET', K_ER, edge)
  if region then
    redis.call('HINCRBY', K_RLOAD, region, -1)
    if redis.call('ZSCORE', cand(region), edge) then
      redis.call('ZINCRBY', cand(region), -1, edge)
    end
  end
end

local function assign(rid, edge, region)
  redis.call('HSET', K_EDGE, rid, edge)
  redis.call('ZINCRBY', cand(region), 1, edge)
  redis.call('HINCRBY', K_LOAD, edge, 1)
  redis.call('HINCRBY', K_RLOAD, region, 1)
end

local function release(rid)
  unassign(rid)
  redis.call('HDEL', K_SEAT, rid)
  redis.call('ZREM', K_SEEN, rid)
end

-- Seats whose last heartbeat is older than the seat TTL; at most `limit` per call so one
-- call never blocks Redis for long (the beat sweep loops until none is left).
local function sweep(now, ttl, limit)
  local stale = redis.call('ZRANGEBYSCORE', K_SEEN, '-inf', now - ttl, 'LIMIT', 0, limit)
  for _, rid in ipairs(stale) do
    release(rid)
  end
  return #stale
end

-- The chart's series and the peak: each minute scored by the highest concurrency seen in
-- it. ZADD GT adds a new minute and only ever raises an existing one: one command per
-- change (the peak is the set's highest score, read by the dashboard).
local function record(now, count)
  redis.call('ZADD', K_CONC, 'GT', count, math.floor(now / 60000))
end

-- Watched time of the seat since its last sign of life, credited to its audience region.
local function credit(rid, now, ttl, report_region)
  local last = tonumber(redis.call('ZSCORE', K_SEEN, rid) or '')
  if last and now > last then
    redis.call('HINCRBY', K_WATCH, report_region, math.min(now - last, ttl))
  end
end

-- The per-address rate limit, inside the join's one round trip: the token bucket of
-- events/ratelimit.py (its script, run as the function `take_token`, prepended by
-- admission.py), one bucket per address and webinar under the webinar's tag.
-- Answers 0 when a token was taken, else microseconds until one will be there.
local function limit_address(address, rate, burst)
  if rate <= 0 then
    return 0
  end
  local ttl = math.ceil(burst / rate * 1000) + 60000
  local answer = take_token({PREFIX .. 'ip:' .. address}, {rate, burst, 1, ttl})
  if answer[1] == 1 then
    return 0
  end
  return math.max(answer[2], 1)
end
