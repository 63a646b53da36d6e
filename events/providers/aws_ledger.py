"""The aws provider's request-key ledger in Redis (an Auto Scaling Group knows counts, not
keys). Per webinar, all keys carry the hash tag {W-XXXX}:

    relayaws:{W}:keys:<region>:<role>   hash  request key -> bound instance id ("" unbound)
    relayaws:{W}:groups                 set   "<region>:<role>" groups created
    relayaws:{W}:parents                hash  request key -> relay:parent tag value given
    relayaws:{W}:draining               set   request keys drained
    relayaws:{W}:lock:<region>:<role>   lock  held while a group is scaled or bound

If Redis loses the ledger, teardown and the leak sweep still find everything by the
cloud's own tags; only the key <-> instance binding is lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis

from events.providers.base import ProviderError


class KeyLedger:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    @staticmethod
    def _key(code: str, *parts: str) -> str:
        return f"relayaws:{{{code}}}:" + ":".join(parts)

    @contextmanager
    def locked(self, code: str, region: str, role: str) -> Iterator[None]:
        lock = self._redis.lock(
            self._key(code, "lock", region, role), timeout=120, blocking_timeout=120
        )
        if not lock.acquire():
            raise ProviderError(f"group {region}/{role} of {code} is busy")
        try:
            yield
        finally:
            lock.release()

    def groups(self, code: str) -> list[tuple[str, str]]:
        members = self._redis.smembers(self._key(code, "groups"))
        return sorted(tuple(m.decode().split(":", 1)) for m in members)  # type: ignore[misc]

    def add(self, code: str, region: str, role: str, keys: list[str]) -> int:
        """Record the keys (idempotent); returns how many keys the group has now."""
        self._redis.sadd(self._key(code, "groups"), f"{region}:{role}")
        group = self._key(code, "keys", region, role)
        for key in keys:
            self._redis.hsetnx(group, key, "")
        return int(self._redis.hlen(group))

    def instance_of(self, code: str, region: str, role: str, key: str) -> str | None:
        raw = self._redis.hget(self._key(code, "keys", region, role), key)
        return None if raw is None else raw.decode()

    def remove(self, code: str, region: str, role: str, key: str) -> int:
        """Forget the key; returns how many keys the group has left."""
        group = self._key(code, "keys", region, role)
        self._redis.hdel(group, key)
        self._redis.srem(self._key(code, "draining"), key)
        return int(self._redis.hlen(group))

    def bind(
        self, code: str, region: str, role: str, instances: dict[str, dict[str, Any]]
    ) -> dict[str, str]:
        """Key -> instance id, after binding unbound keys to the group's unbound live
        instances in key and instance-id order. A key whose instance left the group (the
        group replaced it) is unbound first, so it takes the replacement. Call it under
        `locked`."""
        group = self._key(code, "keys", region, role)
        bound = {k.decode(): v.decode() for k, v in self._redis.hgetall(group).items()}
        taken = {i for i in bound.values() if i in instances}
        free = sorted(
            i
            for i, inst in instances.items()
            if i not in taken and not inst["LifecycleState"].startswith("Terminat")
        )
        updates = {}
        for key in sorted(bound):
            if bound[key] and bound[key] not in instances:
                bound[key] = updates[key] = ""
            if not bound[key] and free:
                bound[key] = updates[key] = free.pop(0)
        if updates:
            self._redis.hset(group, mapping=updates)
        return bound

    def parents(self, code: str) -> dict[str, str]:
        raw = self._redis.hgetall(self._key(code, "parents"))
        return {k.decode(): v.decode() for k, v in raw.items()}

    def set_parents(self, code: str, told: dict[str, str], dropped: list[str]) -> None:
        if told:
            self._redis.hset(self._key(code, "parents"), mapping=told)
        if dropped:
            self._redis.hdel(self._key(code, "parents"), *dropped)

    def draining(self, code: str) -> set[str]:
        return {k.decode() for k in self._redis.smembers(self._key(code, "draining"))}

    def mark_draining(self, code: str, key: str) -> None:
        self._redis.sadd(self._key(code, "draining"), key)

    def clear(self, code: str) -> None:
        stale = [self._key(code, "keys", r, o) for r, o in self.groups(code)]
        stale += [self._key(code, what) for what in ("groups", "parents", "draining")]
        self._redis.delete(*stale)
