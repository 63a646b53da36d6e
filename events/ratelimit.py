"""Provider API rate limits, global across workers: a token bucket in Redis.

Celery's `rate_limit` counts per worker process, so ten workers would make ten times the
calls a cloud allows. Here every taker, in any process on any machine, draws from one bucket
per (provider, region) in Redis. One Lua script refills and takes atomically, using Redis's
own clock (TIME), so all workers share one view of time and no clock skew between machines
can mint extra tokens. A bucket holds at most `burst` tokens and gains `rate` per second.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable

import redis
from django.conf import settings

from events.providers.base import RateLimited

# KEYS[1] bucket; ARGV rate (tokens/s), burst, tokens wanted, ttl (ms).
# Returns {1, 0} when granted, else {0, microseconds until enough tokens}.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000000)
  at = now
end
local granted = 0
local wait = 0
if tokens >= want then
  tokens = tokens - want
  granted = 1
else
  wait = math.ceil((want - tokens) * 1000000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {granted, wait}
"""


@functools.cache
def redis_client(url: str | None = None) -> redis.Redis:
    """One connection pool per Redis URL and process (REDIS_URL by default)."""
    return redis.Redis.from_url(url or settings.REDIS_URL)


class TokenBucket:
    def __init__(
        self,
        name: str,
        *,
        rate: float,
        burst: int,
        client: redis.Redis | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a bucket needs a positive rate and a burst of at least 1")
        self.name, self.rate, self.burst = name, float(rate), int(burst)
        # One hash tag: the bucket is one key, so it also works on a Redis Cluster.
        self.key = f"ratelimit:{{{name}}}"
        self._redis = client or redis_client()
        self._script = self._redis.register_script(_TAKE)
        self._sleep = sleep
        # Idle buckets expire once full again (plus a margin), so keys do not pile up.
        self._ttl_ms = math.ceil(burst / self.rate * 1000) + 60_000

    def try_take(self, tokens: int = 1) -> float:
        """Take `tokens` now if the bucket has them: 0.0. Else nothing is taken, and the
        answer is the seconds until it will have them."""
        if tokens > self.burst:
            raise ValueError(f"{tokens} tokens can never fit a bucket of {self.burst}")
        granted, wait_us = self._script(
            keys=[self.key], args=[self.rate, self.burst, tokens, self._ttl_ms]
        )
        return 0.0 if granted else max(int(wait_us), 1) / 1_000_000

    def take(self, tokens: int = 1, *, max_wait: float) -> None:
        """Take `tokens`, sleeping while the bucket refills; raise RateLimited when that
        would take longer than `max_wait` seconds in all."""
        deadline = time.monotonic() + max_wait
        while True:
            wait = self.try_take(tokens)
            if not wait:
                return
            left = deadline - time.monotonic()
            if wait > left:
                raise RateLimited(self.name, wait)
            self._sleep(wait)

    def reset(self) -> None:
        self._redis.delete(self.key)


def bucket_for(provider: str, region: str, *, rate: float, burst: int) -> TokenBucket:
    """The one bucket of `provider`'s API in `region`."""
    return TokenBucket(f"{provider}:{region}", rate=rate, burst=burst)
