"""Reads of relay clusters: the panel's progress and table, the usage report, the cost."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from events.models import AttendanceSummary, ClusterIncident, RelayCluster, RelayNode
from events.providers.base import RelayProvider
from webinars.delivery_costs import DeliveryCost
from webinars.models import Webinar

ROLE_ORDER = ("origin", "relay", "edge", "spare")


def cluster_of(webinar: Webinar) -> RelayCluster | None:
    return RelayCluster.objects.filter(webinar=webinar).first()


@dataclass(frozen=True)
class GroupRow:
    region: str
    role: str
    planned: int
    up: int
    booting: int
    replaced: int


def projected_ready_at(
    cluster: RelayCluster, provider: RelayProvider, *, now: datetime
) -> datetime | None:
    """When the cluster should be ready at the latest, from what is left: its planned
    nodes issued at the provider's API rate (the slowest region decides), then a slow
    boot. None when nothing is left to boot."""
    left = (
        cluster.nodes.filter(state__in=(RelayNode.State.PLANNED, RelayNode.State.PENDING))
        .values("region")
        .annotate(planned=Count("pk", filter=Q(state=RelayNode.State.PLANNED)))
    )
    if not left:
        return None
    rate = provider.region_calls_per_s
    issue_s = max(row["planned"] / rate for row in left) if rate else 0.0
    return max(now, cluster.provision_after) + timedelta(seconds=issue_s + provider.slow_boot_s)


def progress(cluster: RelayCluster) -> tuple[int, int]:
    """(nodes up, nodes planned): the progress bar."""
    up = cluster.nodes.filter(state__in=RelayNode.UP_STATES).count()
    return up, cluster.planned_nodes


def group_rows(cluster: RelayCluster) -> list[GroupRow]:
    """One row per region and role of the plan, with what runs now."""
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for region, role, state in cluster.nodes.values_list("region", "role", "state"):
        counts[(region, role)][state] += 1
    rows = []
    for g in cluster.groups:
        c = counts[(g["region"], g["role"])]
        rows.append(
            GroupRow(
                region=g["region"],
                role=g["role"],
                planned=g["actual"],
                up=c[RelayNode.State.SERVING] + c[RelayNode.State.STANDBY],
                booting=c[RelayNode.State.PENDING] + c[RelayNode.State.PLANNED],
                replaced=c[RelayNode.State.FAILED] + c[RelayNode.State.TERMINATED]
                if not cluster.is_final
                else 0,
            )
        )
    return sorted(rows, key=lambda r: (r.region, ROLE_ORDER.index(r.role)))


def incidents(cluster: RelayCluster) -> list[ClusterIncident]:
    return list(cluster.incidents.select_related("node").order_by("created_at", "pk"))


def _intervals(cluster: RelayCluster, now: datetime) -> list[tuple[RelayNode, datetime, datetime]]:
    return [
        (n, n.started_at, n.terminated_at or now)
        for n in cluster.nodes.exclude(started_at__isnull=True)
    ]


def usage_report(cluster: RelayCluster, *, now: datetime | None = None) -> dict[str, Any]:
    """Node-hours by region and role (a node counts from first seen running to its
    termination, under the role it ends with), peak nodes running at once, incidents,
    time to ready (claim to ready), and the attendance the nodes carried."""
    now = now or timezone.now()
    spans = _intervals(cluster, now)
    seconds: dict[tuple[str, str], float] = defaultdict(float)
    events: list[tuple[datetime, int]] = []
    for node, start, end in spans:
        seconds[(node.region, node.role)] += max(0.0, (end - start).total_seconds())
        events += [(start, 1), (end, -1)]
    peak = running = 0
    for _moment, delta in sorted(events, key=lambda e: (e[0], e[1])):
        running += delta
        peak = max(peak, running)
    ready_s = (
        (cluster.ready_at - cluster.provisioning_started_at).total_seconds()
        if cluster.ready_at and cluster.provisioning_started_at
        else None
    )
    return {
        "node_hours": [
            {"region": r, "role": role, "hours": round(s / 3600, 2), "seconds": s}
            for (r, role), s in sorted(
                seconds.items(), key=lambda kv: (kv[0][0], ROLE_ORDER.index(kv[0][1]))
            )
        ],
        "total_node_hours": round(sum(seconds.values()) / 3600, 2),
        "peak_nodes": peak,
        "incidents": cluster.incidents.count(),
        "time_to_ready_s": ready_s,
        "attendance": _attendance(cluster, peak),
    }


def _attendance(cluster: RelayCluster, peak_nodes: int) -> dict[str, Any] | None:
    """What the cluster carried, from the attendance kept at completion: viewers at the
    peak, how many attended, and viewers per serving node at the peak (sizing feedback)."""
    summary = AttendanceSummary.objects.filter(webinar_id=cluster.webinar_id).first()
    if summary is None:
        return None
    return {
        "attended": summary.attended,
        "peak_concurrent": summary.peak_concurrent,
        "viewers_per_node": round(summary.peak_concurrent / peak_nodes) if peak_nodes else None,
    }


def hourly_rate(region: str, role: str) -> int:
    """Minor units per node-hour: RELAY_HOURLY_RATES[region][role], else ["default"][role]."""
    rates = settings.RELAY_HOURLY_RATES
    for scope in (region, "default"):
        if role in rates.get(scope, {}):
            return int(rates[scope][role])
    return 0


def cluster_cost(webinar: Webinar) -> DeliveryCost | None:
    """What the webinar's relays cost: node-hours x the hourly rate of their region and
    role, in minor units of the booking's currency (integer arithmetic, each region and
    role rounded half up); None before any node ran. Registered with
    `webinars.delivery_costs`, which the finance page reads."""
    cluster = cluster_of(webinar)
    if cluster is None:
        return None
    seconds: dict[tuple[str, str], int] = defaultdict(int)
    for node, start, end in _intervals(cluster, timezone.now()):
        seconds[(node.region, node.role)] += max(0, (end - start) // timedelta(seconds=1))
    if not seconds:
        return None
    minor = sum(
        (spent * hourly_rate(region, role) + 1800) // 3600
        for (region, role), spent in seconds.items()
    )
    hours = (Decimal(sum(seconds.values())) / 3600).quantize(Decimal("0.01"))
    return DeliveryCost(minor=minor, currency=webinar.currency, node_hours=hours)
