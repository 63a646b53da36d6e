"""Provisioning a planned relay cluster: the claim, creating nodes through the provider
(idempotent per request key), replacing failed boots, wiring the cascade, and `ready`.

Claiming: a cluster is provisioned by the one worker holding its claim (a token on the row,
taken under `SELECT ... FOR UPDATE SKIP LOCKED` and checked on every step). The holder
refreshes `claimed_at` on every step; a claim older than RELAY_CLAIM_TTL_S is stale (its
worker died) and beat's sweep hands the cluster to another worker, which carries on from
the node rows: every node's request key is written before the provider is called, and
providers never create a node twice for one key, so a retried or resumed run adds nothing.

Provider calls happen outside database transactions (the Janus provider starts processes,
which a rollback could not undo); each state change is then written in its own short
transaction with its audit row.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from events import notify
from events.models import ClusterIncident, RelayCluster, RelayNode
from events.providers.base import (
    Cascade,
    Node,
    NodeSpec,
    NodeState,
    ProviderError,
    QuotaExceeded,
    RateLimited,
    RelayProvider,
    Role,
)
from events.services.clusters import (
    alert,
    cascade_over,
    load,
    node_key,
    provider_of,
    record_incident,
    set_cluster_state,
    set_node_state,
    set_parents,
    worker_name,
)
from webinars import audit
from webinars.jobs import enqueue_on_commit
from webinars.models import Webinar

log = logging.getLogger(__name__)

C = RelayCluster.State
N = RelayNode.State
W = Webinar.Status


def claim(cluster_id: int, *, worker: str, now: datetime | None = None) -> uuid.UUID | None:
    """Take the cluster for provisioning: a planned one, or a provisioning one whose holder
    stopped refreshing its claim. None when another worker holds it (or locks it right now)
    or there is nothing to provision."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.RELAY_CLAIM_TTL_S)
    with transaction.atomic():
        cluster = (
            RelayCluster.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("webinar")
            .filter(pk=cluster_id)
            .first()
        )
        if cluster is None or cluster.webinar.status not in (W.CONFIRMED, W.LIVE):
            return None
        if cluster.state == C.PLANNED:
            action = ""
        elif cluster.state == C.PROVISIONING and (
            cluster.claimed_at is None or cluster.claimed_at < stale
        ):
            action = "cluster.reclaimed"
        else:
            return None
        previous = cluster.claimed_by
        token = uuid.uuid4()
        cluster.claim_token, cluster.claimed_by, cluster.claimed_at = token, worker, now
        cluster.provisioning_started_at = cluster.provisioning_started_at or now
        set_cluster_state(
            cluster,
            C.PROVISIONING,
            data={"worker": worker, "previous_worker": previous},
            fields=["claim_token", "claimed_by", "claimed_at", "provisioning_started_at"],
            action=action,
        )
    return token


def _heartbeat(cluster_id: int, token: uuid.UUID) -> bool:
    return bool(
        RelayCluster.objects.filter(pk=cluster_id, claim_token=token, state=C.PROVISIONING).update(
            claimed_at=timezone.now()
        )
    )


def _release(cluster_id: int, token: uuid.UUID) -> None:
    """Give the claim up at once (beat finds the cluster again on its next sweep)."""
    RelayCluster.objects.filter(pk=cluster_id, claim_token=token).update(claimed_at=None)


def provision_cluster(
    cluster_id: int,
    *,
    worker: str | None = None,
    wait_s: float | None = None,
    provider: RelayProvider | None = None,
) -> str:
    """Claim the cluster and bring it to ready: create every node under its request key,
    replace failed boots (new keys), wire the cascade once all nodes are up. Polls the
    provider for up to `wait_s` (RELAY_PROVISION_WAIT_S), then gives the claim back for
    beat to hand on. Returns the cluster's state as this call leaves it ("claimed" when
    another worker holds it)."""
    token = claim(cluster_id, worker=worker or worker_name())
    if token is None:
        return "claimed"
    cluster = load(cluster_id)
    provider = provider or provider_of(cluster)
    deadline = time.monotonic() + (settings.RELAY_PROVISION_WAIT_S if wait_s is None else wait_s)
    try:
        while True:
            if not _heartbeat(cluster_id, token):
                return load(cluster_id).state  # torn down or taken over meanwhile
            try:
                if provision_step(cluster, provider, token=token):
                    return C.READY
            except RateLimited:
                pass  # tokens come back with time; the next step tries again
            except QuotaExceeded as exc:
                with transaction.atomic():
                    record_incident(cluster, ClusterIncident.Kind.PROVIDER_ERROR, str(exc))
                    alert(cluster, "provider quota exceeded", str(exc))
                    set_cluster_state(cluster, C.FAILED, data={"reason": str(exc)})
                return C.FAILED
            if time.monotonic() >= deadline:
                _release(cluster_id, token)
                return C.PROVISIONING
            time.sleep(settings.RELAY_POLL_INTERVAL_S)
    except BaseException:
        _release(cluster_id, token)
        raise


def _spec(cluster: RelayCluster, row: RelayNode) -> NodeSpec:
    return NodeSpec(cluster.code, row.region, Role(row.role), row.request_key)


def live_rows(cluster: RelayCluster) -> list[RelayNode]:
    return list(
        RelayNode.objects.filter(
            cluster=cluster, state__in=(N.PLANNED, N.PENDING, N.SERVING, N.STANDBY)
        )
    )


def _up_state(row: RelayNode) -> str:
    return N.STANDBY if row.role == Role.SPARE else N.SERVING


def _parallel(provider: RelayProvider) -> bool:
    """Cloud providers are called one thread per region: each region has its own API
    limit. The local Janus provider keeps its state in the database and has no API limit,
    so it is called from this thread only."""
    return provider.name != "janus"


def start_planned(
    cluster: RelayCluster, provider: RelayProvider, rows: Sequence[RelayNode]
) -> None:
    """Ask the provider for the planned rows' nodes, then record what it answered. Regions
    are asked in parallel (one thread each): each region has its own API rate limit, so
    issuing them one after the other would add the regions' issue times up."""
    planned = [r for r in rows if r.state == N.PLANNED]
    if not planned:
        return
    by_region: dict[str, list[NodeSpec]] = {}
    for r in planned:
        by_region.setdefault(r.region, []).append(_spec(cluster, r))
    answered: dict[str, Node] = {}
    errors: list[ProviderError] = []
    if len(by_region) == 1 or not _parallel(provider):
        every = [spec for specs in by_region.values() for spec in specs]
        answered = {n.request_key: n for n in provider.create_nodes(every)}
    else:
        with ThreadPoolExecutor(max_workers=len(by_region)) as pool:
            futures = [pool.submit(provider.create_nodes, s) for s in by_region.values()]
            for future in futures:
                try:
                    answered |= {n.request_key: n for n in future.result()}
                except ProviderError as exc:  # the other regions' nodes are still recorded
                    errors.append(exc)
    now = timezone.now()
    with transaction.atomic():
        for row in planned:
            node = answered.get(row.request_key)
            if node is None:
                continue
            row.provider_id = node.provider_id
            row.endpoint = node.address[:200]
            set_node_state(row, N.PENDING, cluster=cluster, fields=["provider_id", "endpoint"])
            if node.state == NodeState.RUNNING:
                row.started_at = now
                set_node_state(row, _up_state(row), cluster=cluster, fields=["started_at"])
    if errors:
        raise errors[0]


def observe(
    cluster: RelayCluster, provider: RelayProvider, rows: Sequence[RelayNode]
) -> list[RelayNode]:
    """Move booting rows to serving (or standby) as the provider reports them running;
    replace failed boots. Returns the rows that replaced failed ones."""
    booting = [r for r in rows if r.state == N.PENDING]
    if not booting:
        return []
    seen = {n.request_key: n for n in provider.describe(cluster.code)}
    now = timezone.now()
    lost = [r for r in booting if r.request_key not in seen]
    if lost:  # started by a worker that died before the provider answered: ask again
        provider.create_nodes([_spec(cluster, r) for r in lost])
    with transaction.atomic():
        for row in booting:
            node = seen.get(row.request_key)
            if node is not None and node.state == NodeState.RUNNING:
                row.started_at, row.provider_id = now, node.provider_id
                row.endpoint = node.address[:200]
                set_node_state(
                    row,
                    _up_state(row),
                    cluster=cluster,
                    fields=["started_at", "provider_id", "endpoint"],
                )
    failed = [
        (row, seen[row.request_key])
        for row in booting
        if row.request_key in seen and seen[row.request_key].state == NodeState.FAILED
    ]
    return replace_failed_boots(cluster, provider, failed) if failed else []


def replace_failed_boots(
    cluster: RelayCluster, provider: RelayProvider, failed: Sequence[tuple[RelayNode, Node]]
) -> list[RelayNode]:
    """Boots that failed are terminated and their slots booted again under new keys. This
    is not taken from the spare: a failed node never served and is gone, so the cluster
    holds no more nodes than planned. Regions are handled in parallel, as in
    `start_planned`, so one region's API limit does not hold up another's replacements."""
    by_region: dict[str, list[Node]] = {}
    for _row, node in failed:
        by_region.setdefault(node.region, []).append(node)
    if len(by_region) == 1 or not _parallel(provider):
        for nodes in by_region.values():
            _terminate_all(provider, nodes)
    else:
        with ThreadPoolExecutor(max_workers=len(by_region)) as pool:
            for future in [pool.submit(_terminate_all, provider, n) for n in by_region.values()]:
                future.result()
    replacements = []
    with transaction.atomic():
        for row, node in failed:
            set_node_state(row, N.FAILED, cluster=cluster, data={"reason": node.reason})
            row.terminated_at = timezone.now()
            set_node_state(row, N.TERMINATED, cluster=cluster, fields=["terminated_at"])
            replacement, _ = RelayNode.objects.get_or_create(
                cluster=cluster,
                region=row.region,
                role=row.role,
                index=row.index,
                generation=row.generation + 1,
                defaults={
                    "request_key": node_key(
                        cluster.code, row.region, row.role, row.index, row.generation + 1
                    )
                },
            )
            record_incident(
                cluster,
                ClusterIncident.Kind.BOOT_FAILED,
                f"{row.request_key}: {node.reason or 'boot failed'}; booting "
                f"{replacement.request_key} instead",
                node=row,
                resolved=True,
            )
            replacements.append(replacement)
    start_planned(cluster, provider, replacements)
    return replacements


def _terminate_all(provider: RelayProvider, nodes: list[Node]) -> None:
    for node in nodes:
        provider.terminate(node)


def rewire(cluster: RelayCluster, provider: RelayProvider, *, reason: str) -> None:
    """Wire the standard cascade over the nodes that are up and record who feeds whom."""
    rows = [r for r in live_rows(cluster) if r.state in RelayNode.UP_STATES]
    cascade = cascade_over(cluster, rows)
    result = provider.wire(Cascade(cluster.code, cascade))
    with transaction.atomic():
        set_parents(rows, cascade)
        audit.record(
            "cluster.rewired",
            cluster,
            actor=None,
            webinar=cluster.webinar,
            data={"reason": reason, "added": result.added, "removed": result.removed},
        )


def provision_step(cluster: RelayCluster, provider: RelayProvider, *, token: uuid.UUID) -> bool:
    """One pass: start planned nodes, observe booting ones, and once every slot is up, wire
    and mark the cluster ready. True when ready."""
    rows = list(RelayNode.objects.filter(cluster=cluster, state__in=(N.PLANNED, N.PENDING)))
    if any(r.state == N.PLANNED for r in rows):
        start_planned(cluster, provider, rows)
    observe(cluster, provider, rows)
    states = Counter(
        RelayNode.objects.filter(cluster=cluster, state__in=RelayNode.LIVE_STATES).values_list(
            "state", flat=True
        )
    )
    up = states[N.SERVING] + states[N.STANDBY]
    if up < cluster.planned_nodes or up != sum(states.values()):
        return False
    rewire(cluster, provider, reason="provisioned")
    with transaction.atomic():
        locked = RelayCluster.objects.select_for_update().get(pk=cluster.pk)
        if locked.claim_token != token or locked.state != C.PROVISIONING:
            return False
        cluster.ready_at = timezone.now()
        cluster.claim_token, cluster.claimed_at = None, None
        set_cluster_state(
            cluster,
            C.READY,
            data={"nodes": len(rows)},
            fields=["ready_at", "claim_token", "claimed_at"],
        )
        webinar, ready_at = cluster.webinar, cluster.ready_at
        transaction.on_commit(
            lambda: notify.cluster_ready(webinar, nodes=len(rows), ready_at_utc=ready_at)
        )
        # The edges serve now: publish them for the join path (beat refreshes them later).
        enqueue_on_commit("events.tasks.publish_admission_task", webinar_id=webinar.pk)
    return True
