"""`simulated`: a cloud SIMULATION, not a cloud. Nothing boots anywhere; the provider keeps
an imaginary cloud's state in Redis and answers as a cloud would:

- boot time: each node boots in a time drawn uniformly from mean +/- jitter
  (RELAY_SIM_BOOT_MEAN_S, RELAY_SIM_BOOT_JITTER_S), counted from its launch call;
- boot failures: a node fails at the end of its boot with RELAY_SIM_FAILURE_RATE;
- quotas: at most RELAY_SIM_QUOTA_PER_REGION live nodes per region over all webinars
  (RELAY_SIM_REGION_QUOTAS overrides single regions); a batch that would pass the quota
  is refused whole for that region (QuotaExceeded), as a cloud refuses a launch request;
- API rate limits: each launch and each termination is one API call, drawn from the
  shared token bucket of ("simulated", region) at RELAY_SIM_API_RATE calls per simulated
  second (burst RELAY_SIM_API_BURST);
- time scale: RELAY_SIM_TIME_SCALE real seconds per simulated second (0.01 runs a 60 s boot
  in 0.6 s), applied to boots and to the API rate alike, for benchmarks and tests;
- determinism: with RELAY_SIM_SEED set, a node's boot time and fate depend only on the seed
  and its request key, whichever worker launches it and in whatever order.

State is shared by every worker process: one Redis hash per webinar (keys carry the hash
tag {W-XXXX}, so one webinar's keys share a Redis Cluster slot), one usage hash per region
for the quota. Clocks are Redis's (TIME), so workers on several machines agree.
Media is simulated too: a wired edge is fresh when every node up its chain to a
studio-fed origin is running. `crash(node)` (simulation only) makes a running node stop
answering, for monitor and replacement tests.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis
from django.conf import settings

from events.providers.base import (
    Cascade,
    Health,
    Node,
    NodeSpec,
    NodeState,
    QuotaExceeded,
    RelayProvider,
    Resource,
    Role,
    UnknownNode,
    WireResult,
    register,
)
from events.ratelimit import TokenBucket, redis_client

NOMINAL_MEDIA_AGE_MS = 20  # a fed simulated edge's newest packet

# KEYS[1] region usage hash; ARGV limit, webinar code, request keys...
# All-or-nothing: {1, in use} after recording the new keys, or {0, in use}.
_RESERVE = """
local new = {}
for i = 3, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 0 then table.insert(new, ARGV[i]) end
end
local used = redis.call('HLEN', KEYS[1])
if used + #new > tonumber(ARGV[1]) then return {0, used} end
for _, key in ipairs(new) do redis.call('HSET', KEYS[1], key, ARGV[2]) end
return {1, used + #new}
"""

# KEYS[1] nodes hash; ARGV request key, then field/value pairs to set in its JSON record.
_UPDATE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local record = cjson.decode(raw)
for i = 2, #ARGV, 2 do record[ARGV[i]] = ARGV[i + 1] end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(record))
return 1
"""

# KEYS[1] nodes hash; ARGV[1] JSON {child: parent or "studio"}. Sets every live record's
# parent ("" when not in the cascade); returns {links added, links removed}.
_WIRE = """
local parents = cjson.decode(ARGV[1])
local added, removed = 0, 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local record = cjson.decode(all[i + 1])
  if record['state'] ~= 'terminated' then
    local want = parents[all[i]] or ''
    local had = record['parent'] or ''
    if want ~= had then
      if had ~= '' then removed = removed + 1 end
      if want ~= '' then added = added + 1 end
      record['parent'] = want
      redis.call('HSET', KEYS[1], all[i], cjson.encode(record))
    end
  end
end
return {added, removed}
"""


@dataclass(frozen=True)
class SimulationParams:
    boot_mean_s: float = 60.0
    boot_jitter_s: float = 15.0
    failure_rate: float = 0.05
    quota_per_region: int = 1200
    region_quotas: Mapping[str, int] = field(default_factory=dict)
    api_rate: float = 20.0  # calls per simulated second and region
    api_burst: int = 20
    time_scale: float = 1.0  # real seconds per simulated second
    seed: str | None = None

    def __post_init__(self) -> None:
        if self.time_scale <= 0 or self.api_rate <= 0 or self.api_burst < 1:
            raise ValueError("time scale and API rate must be positive, burst at least 1")
        if not 0 <= self.failure_rate <= 1 or self.boot_mean_s < 0 or self.boot_jitter_s < 0:
            raise ValueError("failure rate must be within 0..1, boot times not negative")

    @classmethod
    def from_settings(cls) -> SimulationParams:
        return cls(
            boot_mean_s=settings.RELAY_SIM_BOOT_MEAN_S,
            boot_jitter_s=settings.RELAY_SIM_BOOT_JITTER_S,
            failure_rate=settings.RELAY_SIM_FAILURE_RATE,
            quota_per_region=settings.RELAY_SIM_QUOTA_PER_REGION,
            region_quotas=dict(settings.RELAY_SIM_REGION_QUOTAS),
            api_rate=settings.RELAY_SIM_API_RATE,
            api_burst=settings.RELAY_SIM_API_BURST,
            time_scale=settings.RELAY_SIM_TIME_SCALE,
            seed=settings.RELAY_SIM_SEED or None,
        )

    def quota(self, region: str) -> int:
        return int(self.region_quotas.get(region, self.quota_per_region))

    def draw(self, request_key: str) -> tuple[float, bool]:
        """(boot seconds, fails) of a node: from the seed and key alone when seeded."""
        rng = random.Random(f"{self.seed}:{request_key}") if self.seed else random.Random()
        boot = max(
            0.0,
            rng.uniform(
                self.boot_mean_s - self.boot_jitter_s, self.boot_mean_s + self.boot_jitter_s
            ),
        )
        return boot, rng.random() < self.failure_rate


@register("simulated")
class SimulatedProvider(RelayProvider):
    def __init__(
        self, params: SimulationParams | None = None, *, client: redis.Redis | None = None
    ) -> None:
        self.params = params or SimulationParams.from_settings()
        self._redis = client or redis_client()
        self._reserve = self._redis.register_script(_RESERVE)
        self._update = self._redis.register_script(_UPDATE)
        self._wire = self._redis.register_script(_WIRE)

    @property  # type: ignore[override]
    def slow_boot_s(self) -> float:
        return (self.params.boot_mean_s + self.params.boot_jitter_s) * self.params.time_scale

    @property  # type: ignore[override]
    def region_calls_per_s(self) -> float:
        return self.params.api_rate / self.params.time_scale

    # --- keys, clock, records ----------------------------------------------------------

    @staticmethod
    def _nodes_key(webinar_code: str) -> str:
        return f"relaysim:{{{webinar_code}}}:nodes"

    @staticmethod
    def _regions_key(webinar_code: str) -> str:
        return f"relaysim:{{{webinar_code}}}:regions"

    @staticmethod
    def _usage_key(region: str) -> str:
        return f"relaysim:{{quota:{region}}}:usage"

    def _now(self) -> float:
        seconds, micros = self._redis.time()
        return seconds + micros / 1_000_000

    def _bucket(self, region: str) -> TokenBucket:
        real_rate = self.params.api_rate / self.params.time_scale
        return TokenBucket(
            f"simulated:{region}", rate=real_rate, burst=self.params.api_burst, client=self._redis
        )

    def _records(self, webinar_code: str) -> dict[str, dict[str, Any]]:
        raw = self._redis.hgetall(self._nodes_key(webinar_code))
        return {k.decode(): json.loads(v) for k, v in raw.items()}

    def _node(self, webinar_code: str, r: dict[str, Any], now: float) -> Node:
        state, reason = NodeState.RUNNING, ""
        if r.get("state") == "terminated":
            state = NodeState.TERMINATED
        elif r.get("state") == "crashed":
            state, reason = NodeState.FAILED, "stopped answering (simulated crash)"
        elif now < r["ready_at"]:
            state = NodeState.PENDING
        elif r["fails"]:
            state, reason = NodeState.FAILED, "boot failed (simulated)"
        elif r.get("state") == "draining":
            state = NodeState.DRAINING
        return Node(
            request_key=r["key"],
            webinar_code=webinar_code,
            region=r["region"],
            role=Role(r["role"]),
            state=state,
            provider_id=r["id"],
            reason=reason,
            detail={
                "simulated": True,
                "boot_s": round(r["boot_s"], 3),
                "issued_at": r["issued_at"],
            },
        )

    # --- the interface -------------------------------------------------------------------

    def create_nodes(self, specs: Sequence[NodeSpec]) -> list[Node]:
        by_webinar: dict[str, list[NodeSpec]] = {}
        for spec in specs:
            by_webinar.setdefault(spec.webinar_code, []).append(spec)
        for code, group in by_webinar.items():
            self._create(code, group)
        now = self._now()
        records = {code: self._records(code) for code in by_webinar}
        return [
            self._node(s.webinar_code, records[s.webinar_code][s.request_key], now) for s in specs
        ]

    def _create(self, code: str, specs: list[NodeSpec]) -> None:
        nodes_key = self._nodes_key(code)
        known = set(self._records(code))
        regions: dict[str, list[NodeSpec]] = {}
        for spec in specs:
            if spec.request_key not in known:
                known.add(spec.request_key)
                regions.setdefault(spec.region, []).append(spec)
        for region, new in regions.items():
            self._redis.sadd(self._regions_key(code), region)
            limit = self.params.quota(region)
            keys = [s.request_key for s in new]
            granted, in_use = self._reserve(
                keys=[self._usage_key(region)], args=[limit, code, *keys]
            )
            if not granted:
                raise QuotaExceeded(region, limit, int(in_use), len(keys))
            bucket = self._bucket(region)
            for spec in new:
                bucket.take(max_wait=settings.RELAY_RATE_MAX_WAIT_S)  # one launch call
                boot, fails = self.params.draw(spec.request_key)
                issued = self._now()
                record = {
                    "key": spec.request_key,
                    "id": "sim-" + hashlib.sha256(spec.request_key.encode()).hexdigest()[:12],
                    "region": spec.region,
                    "role": str(spec.role),
                    "issued_at": issued,
                    "boot_s": boot,
                    "ready_at": issued + boot * self.params.time_scale,
                    "fails": fails,
                    "state": "",
                    "parent": "",
                }
                self._redis.hsetnx(nodes_key, spec.request_key, json.dumps(record))

    def describe(self, webinar_code: str) -> list[Node]:
        now = self._now()
        nodes = [self._node(webinar_code, r, now) for r in self._records(webinar_code).values()]
        return sorted(
            (n for n in nodes if n.state != NodeState.TERMINATED), key=lambda n: n.request_key
        )

    def health(self, node: Node) -> Health:
        records = self._records(node.webinar_code)
        now = self._now()
        record = records.get(node.request_key)
        if record is None:
            return Health(False, "no such node")
        current = self._node(node.webinar_code, record, now)
        if current.state not in (NodeState.RUNNING, NodeState.DRAINING):
            return Health(False, current.reason or f"node is {current.state}")
        if record["role"] not in ("edge", "spare") or not record.get("parent"):
            return Health(True)
        key, seen = record["parent"], set()
        while key != "studio":  # follow the feed up to the studio
            upstream = records.get(key)
            if key in seen or upstream is None:
                return Health(False, "no media: the feed has no path to the studio")
            seen.add(key)
            if self._node(node.webinar_code, upstream, now).state not in (
                NodeState.RUNNING,
                NodeState.DRAINING,
            ):
                return Health(False, f"no media: {key} upstream is down")
            key = upstream.get("parent") or ""
            if not key:
                return Health(False, f"no media: {upstream['key']} is not fed")
        return Health(True, media_age_ms=NOMINAL_MEDIA_AGE_MS)

    def wire(self, cascade: Cascade) -> WireResult:
        live = {n.request_key for n in self.describe(cascade.webinar_code)}
        named = set(cascade.parents) | {p for p in cascade.parents.values() if p}
        if named - live:
            raise UnknownNode(f"not nodes of {cascade.webinar_code}: {sorted(named - live)}")
        parents = {child: parent or "studio" for child, parent in cascade.parents.items()}
        added, removed = self._wire(
            keys=[self._nodes_key(cascade.webinar_code)], args=[json.dumps(parents)]
        )
        return WireResult(int(added), int(removed))

    def drain(self, node: Node) -> None:
        self._update(
            keys=[self._nodes_key(node.webinar_code)], args=[node.request_key, "state", "draining"]
        )

    def crash(self, node: Node) -> None:
        """Simulation only: the node stops answering, as a machine that died would."""
        self._update(
            keys=[self._nodes_key(node.webinar_code)], args=[node.request_key, "state", "crashed"]
        )

    def terminate(self, node: Node) -> None:
        record = self._records(node.webinar_code).get(node.request_key)
        if record is None or record.get("state") == "terminated":
            return
        self._bucket(record["region"]).take(max_wait=settings.RELAY_RATE_MAX_WAIT_S)
        self._update(
            keys=[self._nodes_key(node.webinar_code)],
            args=[node.request_key, "state", "terminated"],
        )
        self._redis.hdel(self._usage_key(record["region"]), node.request_key)

    def teardown(self, webinar_code: str) -> None:
        for region in self._regions(webinar_code):
            usage = self._usage_key(region)
            mine = [k for k, v in self._redis.hscan_iter(usage) if v.decode() == webinar_code]
            if mine:
                self._redis.hdel(usage, *mine)
        self._redis.delete(self._nodes_key(webinar_code), self._regions_key(webinar_code))

    def _regions(self, webinar_code: str) -> list[str]:
        return sorted(r.decode() for r in self._redis.smembers(self._regions_key(webinar_code)))

    def list_resources(self, webinar_code: str) -> list[Resource]:
        found = [
            Resource("instance", n.request_key, n.region, n.state)
            for n in self.describe(webinar_code)
        ]
        for region in self._regions(webinar_code):
            held = sum(
                1
                for _k, v in self._redis.hscan_iter(self._usage_key(region))
                if v.decode() == webinar_code
            )
            if held:
                found.append(Resource("quota-usage", f"{held} nodes", region))
        return found
