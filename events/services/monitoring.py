"""The monitor (beat, every 30 s): probe every node of ready and live clusters, replace an
unhealthy one from the spare and rewire the cascade around it.

Replacement policy (the sizing reserved the spare; the fleet ledger never grows):
- an edge is replaced by promoting a booted spare (same region first, else any region):
  it is wired at once, so viewers are back within one monitor pass;
- an origin or relay is replaced by booting a new node of its role; one spare is retired
  to pay for it, and until the new node runs the cascade routes around the failed one
  (hot-standby origin, the region's other relay);
- an unhealthy spare is terminated and booted again under a new key;
- when no spare is left, the failed node is still terminated and rewired around, and
  Event Services are alerted (incident "no spare left").
One monitor run per cluster at a time (a Redis lock), so overlapping beats never replace
a node twice.
"""

from __future__ import annotations

import contextlib

from django.db import transaction
from django.utils import timezone

from events.models import ClusterIncident, RelayCluster, RelayNode
from events.providers.base import Health, ProviderError, RelayProvider, Role
from events.ratelimit import redis_client
from events.services.clusters import (
    alert,
    load,
    node_key,
    provider_of,
    record_incident,
    set_node_state,
)
from events.services.nodes import live_rows, observe, rewire, start_planned
from webinars.models import User

N = RelayNode.State


def monitor_clusters() -> dict[str, int]:
    """Every ready or live cluster once; returns the number of replacements per cluster."""
    ids = RelayCluster.objects.filter(state__in=RelayCluster.ACTIVE_STATES).values_list(
        "pk", flat=True
    )
    return {str(i): len(monitor_cluster(i)) for i in ids}


def monitor_cluster(cluster_id: int, *, provider: RelayProvider | None = None) -> list[str]:
    """One pass over one cluster; returns the request keys of the nodes it replaced."""
    lock = redis_client().lock(f"relay-monitor:{cluster_id}", timeout=300, blocking=False)
    if not lock.acquire():
        return []
    try:
        cluster = load(cluster_id)
        if cluster.state not in RelayCluster.ACTIVE_STATES:
            return []
        provider = provider or provider_of(cluster)
        observe(cluster, provider, live_rows(cluster))  # replacements still booting
        rows = [r for r in live_rows(cluster) if r.state in RelayNode.UP_STATES]
        seen = {n.request_key: n for n in provider.describe(cluster.code)}
        present = [seen[r.request_key] for r in rows if r.request_key in seen]
        healths = provider.health_many(present)
        now = timezone.now()
        bad: list[tuple[RelayNode, str]] = []
        for row in rows:
            health = healths.get(row.request_key) or Health(False, "gone from the provider")
            row.healthy, row.health_reason = health.ok, health.reason[:300]
            row.media_age_ms, row.last_health_at = health.media_age_ms, now
            if not health.ok:
                bad.append((row, health.reason))
        RelayNode.objects.bulk_update(
            rows, ["healthy", "health_reason", "media_age_ms", "last_health_at"], batch_size=500
        )
        replaced = []
        for row, reason in bad:
            replace_node(cluster, row, reason=reason or "unhealthy", provider=provider)
            replaced.append(row.request_key)
        if replaced:
            rewire(cluster, provider, reason=f"replaced {len(replaced)} node(s)")
        return replaced
    finally:
        lock.release()


def _next_generation(cluster: RelayCluster, region: str, role: str, index: int) -> int:
    latest = (
        RelayNode.objects.filter(cluster=cluster, region=region, role=role, index=index)
        .order_by("-generation")
        .values_list("generation", flat=True)
        .first()
    )
    return (latest or 0) + 1


def _standby_spare(cluster: RelayCluster, region: str) -> RelayNode | None:
    spares = RelayNode.objects.filter(cluster=cluster, role=Role.SPARE, state=N.STANDBY)
    return spares.filter(region=region).first() or spares.order_by("region", "index").first()


def _terminate(cluster: RelayCluster, provider: RelayProvider, row: RelayNode) -> None:
    node = next(
        (n for n in provider.describe(cluster.code) if n.request_key == row.request_key), None
    )
    if node is not None:
        with contextlib.suppress(ProviderError):  # teardown's sweep catches what is left
            provider.terminate(node)
    row.terminated_at = timezone.now()
    set_node_state(row, N.TERMINATED, cluster=cluster, fields=["terminated_at"])


def replace_node(
    cluster: RelayCluster,
    row: RelayNode,
    *,
    reason: str,
    provider: RelayProvider | None = None,
    actor: User | None = None,
    rewire_after: bool = False,
) -> RelayNode | None:
    """Take an unhealthy (or staff-chosen) node out and put a spare in its place (see the
    module's policy). Returns the node now filling the slot, or None without spare."""
    provider = provider or provider_of(cluster)
    with transaction.atomic():
        row = RelayNode.objects.select_for_update().get(pk=row.pk)
        if row.state not in RelayNode.UP_STATES:
            return None
        set_node_state(row, N.FAILED, cluster=cluster, actor=actor, data={"reason": reason})
        incident = record_incident(
            cluster,
            ClusterIncident.Kind.UNHEALTHY,
            f"{row.request_key}: {reason}",
            node=row,
            actor=actor,
        )
    _terminate(cluster, provider, row)
    if row.role == Role.SPARE:
        fresh = _new_slot_node(cluster, row.region, row.role, row.index)
        start_planned(cluster, provider, [fresh])
        _resolve(incident, f"booting {fresh.request_key}")
        return fresh
    spare = _standby_spare(cluster, row.region)
    if spare is None:
        with transaction.atomic():
            record_incident(
                cluster,
                ClusterIncident.Kind.NO_SPARE,
                f"No spare left to replace {row.request_key}; the cascade routes around it.",
                node=row,
            )
            alert(
                cluster,
                "no spare left",
                f"{row.request_key} failed ({reason}) and no spare is left to replace it.",
            )
        if rewire_after:
            rewire(cluster, provider, reason=f"{row.request_key} failed, no spare")
        return None
    if row.role == Role.EDGE:
        with transaction.atomic():
            spare.role, spare.index = row.role, row.index
            spare.generation = _next_generation(cluster, spare.region, row.role, row.index)
            set_node_state(
                spare,
                N.SERVING,
                cluster=cluster,
                actor=actor,
                data={"promoted": True, "replaces": row.request_key},
                fields=["role", "index", "generation"],
            )
        filler = spare
    else:
        with transaction.atomic():
            _terminate(cluster, provider, spare)  # the spare pays for the new boot
        filler = _new_slot_node(cluster, row.region, row.role, row.index)
        start_planned(cluster, provider, [filler])
    _resolve(incident, f"replaced by {filler.request_key}")
    if rewire_after:
        rewire(cluster, provider, reason=f"replaced {row.request_key}")
    return filler


def _new_slot_node(cluster: RelayCluster, region: str, role: str, index: int) -> RelayNode:
    generation = _next_generation(cluster, region, role, index)
    return RelayNode.objects.create(
        cluster=cluster,
        region=region,
        role=role,
        index=index,
        generation=generation,
        request_key=node_key(cluster.code, region, role, index, generation),
    )


def _resolve(incident: ClusterIncident, note: str) -> None:
    incident.resolved, incident.resolved_at = True, timezone.now()
    incident.detail = f"{incident.detail}; {note}"[:500]
    incident.save(update_fields=["resolved", "resolved_at", "detail"])
