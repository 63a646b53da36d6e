"""Admission: who may watch now, decided in Redis by one Lua script per join.

The join and heartbeat paths read no database: the join token is signed (`events.tokens`),
and everything else they need (capacity, doors, end, the serving edges of each region, the
nearest regions) was published to Redis beforehand by `events.services.attendance`. Each
call is one EVALSHA, one round trip; the join script takes a token from the client
address's rate bucket (events/ratelimit.py's script, run inside it), checks the doors and
the revocation set, keeps or takes over the registrant's seat, enforces the capacity cap,
picks the least-loaded serving edge of the viewer's region (else the nearest region with
room), counts per-edge load, peak and the per-minute concurrency series. Being one script,
it is atomic: concurrent joins can never take more seats than the capacity.

A seat is held by one *session* (a random id the player keeps): the same session joining
again keeps its seat; another session with the same link takes it over, and the old one is
told "taken_over" on its next heartbeat. Seats without a heartbeat for the seat TTL (90 s)
are released, by the join script itself (a bounded sweep per join) and by beat.

All of a webinar's keys share its hash tag `{W-XXXX}` (`events.tokens.hash_tag`), so on a
Redis Cluster they live on one shard and the scripts run unchanged there. The scripts are
given two of them (`script_keys`) and derive the others, all in the same slot: besides
KEY_NAMES, `cand:<region>` (the region's serving edges scored by viewers) and
`ip:<address>` (rate buckets).
"""

from __future__ import annotations

import functools
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from django.conf import settings

from events.ratelimit import _TAKE as TOKEN_BUCKET_LUA  # the one token-bucket script
from events.tokens import JoinClaim, hash_tag, revoked_key

LUA = Path(__file__).resolve().parent.parent / "lua"

# The keys of one webinar (admission_common.lua derives them all from the first; the
# scripts are given the config and the revocation set, see `script_keys`).
KEY_NAMES = (
    "cfg",  # hash: capacity, opens_ms, ends_ms, ttl_ms, edge_max, routes, title, time_zone
    "seat",  # hash: registrant id -> session holding the seat
    "edge",  # hash: registrant id -> edge serving the seat
    "seen",  # sorted set: registrant id -> last sign of life (ms); ZCARD = joined now
    "load",  # hash: edge -> viewers
    "rload",  # hash: region -> viewers (by the region of the serving edge)
    "er",  # hash: edge -> its region
    "ep",  # hash: edge -> endpoint
    "stats",  # hash: admitted, rejoined, taken_over, full
    # sorted set: minute (epoch // 60) scored by the highest concurrency in that minute
    # (one ZADD GT per change); its highest score is the peak
    "conc",
    "att",  # hash: registrant id -> 1 once admitted (attended)
    "attreg",  # hash: audience region -> registrants who attended
    "watch",  # hash: audience region -> milliseconds watched
    "revoked",  # set: revoked registrant ids (events.tokens.revoked_key)
    "regions",  # set: regions that have (or had) serving edges
)

# What the scripts answer.
ADMITTED, REJOINED, TAKEN_OVER = "admitted", "rejoined", "taken_over"
SEATED = (ADMITTED, REJOINED, TAKEN_OVER)
FULL, PREPARING, BUSY = "full", "preparing", "busy"
EARLY, ENDED, CLOSED, REVOKED, RELEASED, OK = (
    "early",
    "ended",
    "closed",
    "revoked",
    "released",
    "ok",
)


def webinar_keys(code: str) -> list[str]:
    tag = hash_tag(code)
    return [revoked_key(code) if n == "revoked" else f"{tag}:adm:{n}" for n in KEY_NAMES]


def key(code: str, name: str) -> str:
    return webinar_keys(code)[KEY_NAMES.index(name)]


def script_keys(code: str) -> list[str]:
    """The KEYS every admission script is called with: the config, the revocation set."""
    return [f"{hash_tag(code)}:adm:cfg", revoked_key(code)]


_local = threading.local()


def admission_redis() -> redis.Redis:
    """The Redis (or Redis Cluster, ATTENDEE_REDIS_CLUSTER) holding admission state.
    ATTENDEE_REDIS_URL defaults to REDIS_URL. One client per thread, each keeping its own
    connection: the join path then skips the pool's checkout, liveness poll and return on
    every call (the gunicorn threads are a fixed pool, so connections stay few)."""
    client = getattr(_local, "client", None)
    if client is None:
        url = settings.ATTENDEE_REDIS_URL or settings.REDIS_URL
        if settings.ATTENDEE_REDIS_CLUSTER:
            client = redis.RedisCluster.from_url(url)
        else:
            client = redis.Redis.from_url(url, single_connection_client=True)
        _local.client = client
    return client


@functools.cache
def _source(name: str) -> str:
    """events/ratelimit.py's token bucket as the function `take_token` (its KEYS and ARGV
    are the function's parameters), the shared helpers, then the script itself."""
    bucket = f"local function take_token(KEYS, ARGV)\n{TOKEN_BUCKET_LUA}\nend\n"
    common = (LUA / "admission_common.lua").read_text()
    return bucket + common + (LUA / f"{name}.lua").read_text()


def script(name: str, client: redis.Redis | None = None) -> Any:
    """The registered script `name` (EVALSHA, loaded on first NOSCRIPT) for `client`
    (this thread's admission client by default)."""
    if client is not None:
        return client.register_script(_source(name))
    scripts = getattr(_local, "scripts", None)
    if scripts is None:
        scripts = _local.scripts = {}
    found = scripts.get(name)
    if found is None:
        found = scripts[name] = admission_redis().register_script(_source(name))
    return found


@dataclass(frozen=True)
class SeatAnswer:
    status: str
    session: str
    edge: str = ""
    endpoint: str = ""
    seats_taken: int = 0

    @property
    def seated(self) -> bool:
        return self.status in SEATED or self.status == OK

    @property
    def retry_after_s(self) -> float:
        """For BUSY: seconds until the address may try again (the script's microseconds)."""
        return self.seats_taken / 1_000_000 if self.status == BUSY else 0.0


def _now_ms(now: float | None) -> int:
    return int((time.time() if now is None else now) * 1000)


def _answer(raw: list[Any], session: str) -> SeatAnswer:
    status, edge, endpoint, count = (v.decode() if isinstance(v, bytes) else v for v in raw)
    return SeatAnswer(status, session, edge, endpoint, int(count))


def new_session() -> str:
    return secrets.token_urlsafe(12)


def _limit(address: str) -> list[Any]:
    """ARGV of the per-address rate limit: the address (none given: no limit), tokens per
    second and burst (ATTENDEE_RATE_PER_IP, ATTENDEE_BURST_PER_IP; rate 0 = no limit)."""
    if not address:
        return ["-", 0, 1]
    return [address, settings.ATTENDEE_RATE_PER_IP, settings.ATTENDEE_BURST_PER_IP]


def take_seat(
    claim: JoinClaim,
    *,
    session: str | None = None,
    route_region: str = "",
    address: str = "",
    now: float | None = None,
) -> SeatAnswer:
    """Admit `claim`'s registrant (or keep / take over their seat). `session` is the one
    the player got before (None: a new one); `route_region` overrides the registration
    region for routing (the CDN's geo header); `address` is the client's, for the rate
    limit (BUSY when over it). `now` is seconds since the epoch."""
    session = session or new_session()
    raw = script("admission_join")(
        keys=script_keys(claim.webinar_code),
        args=[
            claim.registrant_id,
            session,
            _now_ms(now),
            route_region or claim.region or "*",
            claim.region or "unknown",
            settings.ATTENDEE_SWEEP_PER_JOIN,
            *_limit(address),
        ],
    )
    return _answer(raw, session)


def refresh_seat(claim: JoinClaim, *, session: str, now: float | None = None) -> SeatAnswer:
    """A heartbeat of the player holding `session` (not rate-limited per address: see
    admission_heartbeat.lua)."""
    raw = script("admission_heartbeat")(
        keys=script_keys(claim.webinar_code),
        args=[claim.registrant_id, session, _now_ms(now), claim.region or "unknown"],
    )
    return _answer(raw, session)


def sweep_seats(code: str, *, now: float | None = None, batch: int = 1000) -> int:
    """Release every seat of webinar `code` whose heartbeat is older than the seat TTL."""
    released = 0
    while True:
        count = int(script("admission_sweep")(keys=script_keys(code), args=[_now_ms(now), batch]))
        released += count
        if count < batch:
            return released
