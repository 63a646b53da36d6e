"""A cluster's nodes at the provider: creating planned rows (regions in parallel), seeing
booting ones come up, replacing failed boots, and wiring the cascade over the nodes that
are up. Provisioning (provisioning.py) and the monitor (monitoring.py) both work through
these; provider calls happen outside transactions, state changes in short ones, one audit
row each."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from django.db import transaction
from django.utils import timezone

from events.models import ClusterIncident, RelayCluster, RelayNode
from events.providers.base import (
    Cascade,
    Node,
    NodeSpec,
    NodeState,
    ProviderError,
    RelayProvider,
    Role,
)
from events.services.clusters import (
    cascade_over,
    node_key,
    record_incident,
    set_node_state,
    set_parents,
)
from webinars import audit

N = RelayNode.State


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


def parallel(provider: RelayProvider) -> bool:
    """Cloud providers are called one thread per region: each region has its own API
    limit. The local Janus provider keeps its state in the database and has no API limit,
    so it is called from this thread only."""
    return provider.name != "janus"


def start_planned(cluster: RelayCluster, provider: RelayProvider, rows: Sequence[RelayNode]) -> int:
    """Ask the provider for the planned rows' nodes, then record what it answered. Regions
    are asked in parallel (one thread each): each region has its own API rate limit, so
    issuing them one after the other would add the regions' issue times up."""
    planned = [r for r in rows if r.state == N.PLANNED]
    if not planned:
        return 0
    by_region: dict[str, list[NodeSpec]] = {}
    for r in planned:
        by_region.setdefault(r.region, []).append(_spec(cluster, r))
    answered: dict[str, Node] = {}
    errors: list[ProviderError] = []
    if len(by_region) == 1 or not parallel(provider):
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
        # Only rows still planned: a region task queued twice records each node once.
        still = RelayNode.objects.select_for_update().filter(
            pk__in=[r.pk for r in planned], state=N.PLANNED
        )
        for row in still:
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
    return len(answered)


def observe(
    cluster: RelayCluster,
    provider: RelayProvider,
    rows: Sequence[RelayNode],
    *,
    issue: bool = True,
) -> list[RelayNode]:
    """Move booting rows to serving (or standby) as the provider reports them running;
    replace failed boots (their new rows left planned for the region queues unless
    `issue`). Returns the rows that replaced failed ones."""
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
    return replace_failed_boots(cluster, provider, failed, issue=issue) if failed else []


def replace_failed_boots(
    cluster: RelayCluster,
    provider: RelayProvider,
    failed: Sequence[tuple[RelayNode, Node]],
    *,
    issue: bool = True,
) -> list[RelayNode]:
    """Boots that failed are terminated and their slots booted again under new keys. This
    is not taken from the spare: a failed node never served and is gone, so the cluster
    holds no more nodes than planned. Regions are handled in parallel, as in
    `start_planned`, so one region's API limit does not hold up another's replacements."""
    by_region: dict[str, list[Node]] = {}
    for _row, node in failed:
        by_region.setdefault(node.region, []).append(node)
    if len(by_region) == 1 or not parallel(provider):
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
    if issue:
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
