-- Publish a webinar's admission config: ARGV capacity, opens (ms), ends (ms), seat TTL (ms),
-- edge nominal load, routes (JSON region -> regions nearest first; "*" = all), edges (JSON
-- [[edge, region, endpoint], ...]), keys expire at (ms), title, time zone, start (ms).
-- Live state (seats, loads, counters) is kept: a republish only changes which edges serve.
redis.call('HSET', K_CFG, 'capacity', ARGV[1], 'opens_ms', ARGV[2], 'ends_ms', ARGV[3],
  'ttl_ms', ARGV[4], 'edge_max', ARGV[5], 'routes', ARGV[6], 'title', ARGV[9],
  'time_zone', ARGV[10], 'start_ms', ARGV[11])
-- Each region's route as its own field ('route:<region>' = 'a,b,c'), the JSON decoded
-- here once instead of on every join; fields of regions no longer routed are dropped.
local routed = {}
for region, order in pairs(cjson.decode(ARGV[6])) do
  routed['route:' .. region] = true
  redis.call('HSET', K_CFG, 'route:' .. region, table.concat(order, ','))
end
for _, field in ipairs(redis.call('HKEYS', K_CFG)) do
  if string.sub(field, 1, 6) == 'route:' and not routed[field] then
    redis.call('HDEL', K_CFG, field)
  end
end
local serving = {}
for _, e in ipairs(cjson.decode(ARGV[7])) do
  local edge, region, endpoint = e[1], e[2], e[3]
  serving[region .. '|' .. edge] = true
  redis.call('HSET', K_ER, edge, region)
  redis.call('HSET', K_EP, edge, endpoint)
  redis.call('SADD', K_REGIONS, region)
  local load = tonumber(redis.call('HGET', K_LOAD, edge) or '0')
  redis.call('ZADD', cand(region), 'NX', load, edge)
end
-- Edges no longer serving leave the candidates; their viewers move on their next join.
local keys = {K_CFG, K_SEAT, K_EDGE, K_SEEN, K_LOAD, K_RLOAD, K_ER, K_EP, K_STATS, K_CONC,
  K_ATT, K_ATTREG, K_WATCH, K_REVOKED, K_REGIONS}
-- (per-address rate buckets expire by themselves)
for _, region in ipairs(redis.call('SMEMBERS', K_REGIONS)) do
  for _, edge in ipairs(redis.call('ZRANGE', cand(region), 0, -1)) do
    if not serving[region .. '|' .. edge] then
      redis.call('ZREM', cand(region), edge)
    end
  end
  table.insert(keys, cand(region))
end
for _, key in ipairs(keys) do
  redis.call('PEXPIREAT', key, ARGV[8])
end
return #keys
