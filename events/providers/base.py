"""The relay-provider interface: one contract for every engine that runs a webinar's media
relays (local Janus processes, a simulated cloud, EC2 Auto Scaling), chosen by settings.

Vocabulary
    node         one relay machine or process of one webinar, in one region, with one role.
    request key  a string the caller chooses per node (e.g. "W-ABCD2345/us-east/edge/7") and
                 keeps across retries. A provider never creates two nodes for one key, and a
                 key whose node was terminated stays spent: create it again under a new key
                 (replacements get new keys, e.g. "W-ABCD2345/us-east/edge/7#2").
    cascade      which node feeds which: studio -> origins -> regional relays -> edges. A
                 tree, given as child key -> parent key (None: fed by the studio).

The contract (every method may be called by any worker process at any time; providers keep
their state where every worker sees it, in the database, Redis or the cloud itself, never in
process memory, so a new worker finds what a killed one started):

    create_nodes(specs) -> list[Node]
        Starts the nodes not yet known and returns every spec's node, in spec order.
        Idempotent per request key, also when two workers call it at once. Cloud providers
        return PENDING nodes (poll `describe`); the Janus provider returns RUNNING or FAILED.
        Raises QuotaExceeded (nothing of that region's new nodes was started) or
        RateLimited (retry later; the nodes started so far are kept and found again).
    describe(webinar_code) -> list[Node]
        Every node of the webinar that is not terminated, sorted by request key.
    health(node) -> Health / health_many(nodes) -> dict[request key, Health]
        Probes the node itself: answers, engine loaded, and for a wired edge (a node with a
        parent in the last cascade) media freshness: the newest packet's age, read twice.
    wire(cascade) -> WireResult
        Declarative: afterwards each parent forwards to exactly the children the cascade
        gives it; forwards to nodes no longer listed are removed. Idempotent. Nodes outside
        the cascade (spares) are left unfed.
    drain(node)      stops sending new viewers to the node; media keeps flowing.
    terminate(node)  stops the node and frees what it held; idempotent.
    teardown(webinar_code)  terminates everything the webinar holds at the provider
                     (nodes, groups, studio feeds, bookkeeping); idempotent.
    list_resources(webinar_code) -> list[Resource]
        What the provider still holds for the webinar; empty after a clean teardown, so a
        non-empty answer after teardown is a leak to alert on.
    scale(plan) -> ScaledPlan
        How many nodes of each (region, role) this provider really runs for a sizing plan:
        the local Janus provider scales a large plan down (see janus.local_scale); the
        others run the plan as is.

Rate limits: providers take a token from `events.ratelimit` (one bucket per provider and
region, shared by all workers through Redis) before every call to a cloud API.

Registry: a provider module registers its class with `@register("name")`; `get_provider()`
imports `events.providers.<RELAY_PROVIDER>` on first use, so adding a provider means adding
one module and naming it in the setting.
"""

from __future__ import annotations

import importlib
import logging
import math
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from webinars.errors import TransientError
from webinars.sizing import ClusterPlan

log = logging.getLogger(__name__)


class Role(StrEnum):
    ORIGIN = "origin"  # takes the studio feed
    RELAY = "relay"  # carries the feed into a region
    EDGE = "edge"  # serves viewers
    SPARE = "spare"  # booted like an edge, unwired until the caller promotes it


class NodeState(StrEnum):
    PENDING = "pending"  # requested, booting
    RUNNING = "running"  # booted and answering; serving once wired and healthy
    DRAINING = "draining"
    FAILED = "failed"  # boot failed or the node died: terminate it and replace it
    TERMINATED = "terminated"


class ProviderError(TransientError):
    """A provider could not do what was asked; the message says why. Transient for the
    task rule (webinars.jobs retries it with backoff): a cloud's refusal (quota, rate
    limit, a node it no longer knows) is worth asking again once capacity frees up, and
    every provider call is idempotent per request key."""


class QuotaExceeded(ProviderError):
    def __init__(self, region: str, limit: int, in_use: int, requested: int) -> None:
        super().__init__(
            f"quota for {region}: {limit} nodes, {in_use} in use, {requested} more requested"
        )
        self.region, self.limit, self.in_use, self.requested = region, limit, in_use, requested


class RateLimited(ProviderError):
    def __init__(self, bucket: str, retry_after: float) -> None:
        super().__init__(f"API rate limit of {bucket}: retry in {retry_after:.2f} s")
        self.bucket, self.retry_after = bucket, retry_after


class UnknownNode(ProviderError):
    pass


@dataclass(frozen=True)
class NodeSpec:
    webinar_code: str
    region: str  # our region code (webinars.Region.code)
    role: Role
    request_key: str


@dataclass(frozen=True)
class Node:
    request_key: str
    webinar_code: str
    region: str
    role: Role
    state: NodeState
    provider_id: str = ""  # the provider's own id (pid, instance id); "" until it has one
    address: str = ""  # control endpoint, when the provider has one
    reason: str = ""  # why FAILED
    detail: Mapping[str, Any] = field(default_factory=dict)  # JSON-safe, for staff pages


@dataclass(frozen=True)
class Health:
    ok: bool
    reason: str = ""  # "" when ok
    media_age_ms: int | None = None  # edges fed by a parent: newest packet's age; else None
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Cascade:
    webinar_code: str
    parents: Mapping[str, str | None]  # child key -> parent key; None = fed by the studio

    def children(self, parent: str | None) -> list[str]:
        return sorted(child for child, p in self.parents.items() if p == parent)


@dataclass(frozen=True)
class WireResult:
    added: int = 0  # forwards created
    removed: int = 0  # stale forwards stopped
    unreachable: tuple[str, ...] = ()  # parents that could not be told (down): rewire around


@dataclass(frozen=True)
class Resource:
    kind: str  # "process", "port-lease", "folder", "auto-scaling-group", "instance", ...
    id: str
    region: str = ""
    state: str = ""


@dataclass(frozen=True)
class GroupScale:
    region: str
    role: Role
    planned: int
    actual: int


@dataclass(frozen=True)
class ScaledPlan:
    groups: tuple[GroupScale, ...]
    factor: int = 1  # planned nodes one real node stands for, at most (1: no scale-down)
    note: str = ""  # one sentence for the panel when scaled down

    @property
    def planned_nodes(self) -> int:
        return sum(g.planned for g in self.groups)

    @property
    def actual_nodes(self) -> int:
        return sum(g.actual for g in self.groups)

    def actual(self, region: str, role: Role) -> int:
        return sum(g.actual for g in self.groups if g.region == region and g.role == role)


def plan_groups(plan: ClusterPlan | Mapping[str, Any]) -> list[tuple[str, Role, int]]:
    """(region, role, planned nodes) of a sizing plan, or of its stored `as_dict()` form."""
    regions = plan.as_dict()["regions"] if isinstance(plan, ClusterPlan) else plan["regions"]
    groups = []
    for r in regions:  # type: ignore[union-attr]
        for role, count in (
            (Role.ORIGIN, r["origins"]),
            (Role.RELAY, r["relays"]),
            (Role.EDGE, r["edges"]),
            (Role.SPARE, r["spare_edges"]),
        ):
            if count:
                groups.append((str(r["region"]), role, int(count)))
    return groups


def default_cascade(webinar_code: str, nodes: Iterable[Node]) -> Cascade:
    """The standard tree over the RUNNING nodes: every origin is fed by the studio (the
    first by request key is the primary, the others are hot standbys); the primary feeds
    every relay; each region's edges are shared round-robin by its running relays, or fed
    by the primary origin when the region has none (single-region plans, or all its relays
    down). Spares and nodes that are not running stay out, so calling this again after a
    replacement routes around the failed node."""
    up = sorted((n for n in nodes if n.state == NodeState.RUNNING), key=lambda n: n.request_key)
    origins = [n for n in up if n.role == Role.ORIGIN]
    parents: dict[str, str | None] = {n.request_key: None for n in origins}
    if not origins:
        return Cascade(webinar_code, parents)
    primary = origins[0].request_key
    relays: dict[str, list[str]] = {}
    for n in up:
        if n.role == Role.RELAY:
            parents[n.request_key] = primary
            relays.setdefault(n.region, []).append(n.request_key)
    turn: dict[str, int] = {}
    for n in up:
        if n.role == Role.EDGE:
            feeders = relays.get(n.region) or [primary]
            i = turn.get(n.region, 0)
            parents[n.request_key] = feeders[i % len(feeders)]
            turn[n.region] = i + 1
    return Cascade(webinar_code, parents)


class RelayProvider(ABC):
    name: str = ""
    # What the readiness projection assumes (events.selectors.relays.projected_ready_at):
    # the real seconds a slow boot takes, and node-creation calls per second in one region
    # (None: one call creates many nodes, as an Auto Scaling Group's capacity does).
    slow_boot_s: float = 180.0
    region_calls_per_s: float | None = None

    @abstractmethod
    def create_nodes(self, specs: Sequence[NodeSpec]) -> list[Node]: ...

    @abstractmethod
    def describe(self, webinar_code: str) -> list[Node]: ...

    @abstractmethod
    def health(self, node: Node) -> Health: ...

    def health_many(self, nodes: Sequence[Node]) -> dict[str, Health]:
        return {n.request_key: self.health(n) for n in nodes}

    @abstractmethod
    def wire(self, cascade: Cascade) -> WireResult: ...

    @abstractmethod
    def drain(self, node: Node) -> None: ...

    @abstractmethod
    def terminate(self, node: Node) -> None: ...

    @abstractmethod
    def teardown(self, webinar_code: str) -> None: ...

    @abstractmethod
    def list_resources(self, webinar_code: str) -> list[Resource]: ...

    def scale(self, plan: ClusterPlan | Mapping[str, Any]) -> ScaledPlan:
        return ScaledPlan(tuple(GroupScale(r, role, n, n) for r, role, n in plan_groups(plan)))


def wait_settled(
    provider: RelayProvider,
    webinar_code: str,
    keys: Iterable[str],
    *,
    timeout: float,
    interval: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Node]:
    """Poll `describe` until every key is RUNNING or FAILED (or gone), or until `timeout`;
    returns the last view of those keys (tests, benchmarks; tasks poll from beat instead)."""
    wanted = set(keys)
    deadline = time.monotonic() + timeout
    while True:
        nodes = provider.describe(webinar_code)
        seen = {n.request_key: n for n in nodes if n.request_key in wanted}
        settled = all(
            k not in seen or seen[k].state in (NodeState.RUNNING, NodeState.FAILED) for k in wanted
        )
        if settled or time.monotonic() >= deadline:
            return seen
        sleep(interval)


def scaled_counts(groups: Sequence[tuple[str, Role, int]], factor: int) -> list[int]:
    """Real nodes per group when one stands for up to `factor` planned ones (at least one
    per group, so every region and role of the plan keeps running)."""
    return [max(1, math.ceil(planned / factor)) for _r, _role, planned in groups]


# --- registry ------------------------------------------------------------------------

_REGISTRY: dict[str, type[RelayProvider]] = {}
_announced = False


def register(name: str) -> Callable[[type[RelayProvider]], type[RelayProvider]]:
    def decorate(cls: type[RelayProvider]) -> type[RelayProvider]:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def provider_class(name: str) -> type[RelayProvider]:
    if name not in _REGISTRY:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ImproperlyConfigured(f"RELAY_PROVIDER {name!r} is not a provider name")
        module = f"events.providers.{name}"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            raise ImproperlyConfigured(f"unknown relay provider {name!r}") from exc
    if name not in _REGISTRY:
        raise ImproperlyConfigured(f"events.providers.{name} registers no provider {name!r}")
    return _REGISTRY[name]


def get_provider(name: str | None = None) -> RelayProvider:
    """The provider named by `name`, else by the RELAY_PROVIDER setting (whose default and
    the reason for it are logged once per process)."""
    global _announced
    if name is None:
        name = settings.RELAY_PROVIDER
        if not _announced:
            _announced = True
            log.info("relay provider: %s (%s)", name, settings.RELAY_PROVIDER_SOURCE)
    return provider_class(name)()
