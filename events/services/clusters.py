"""Relay clusters: the state of clusters and nodes (each change audited), incidents and
alerts, and planning a cluster when its booking is confirmed. Provisioning is in
provisioning.py, what beat finds due in lifecycle.py, the monitor in monitoring.py,
teardown in teardown.py.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from events import notify
from events.models import ClusterIncident, RelayCluster, RelayNode
from events.providers.base import (
    Node,
    NodeState,
    RelayProvider,
    Role,
    default_cascade,
    get_provider,
)
from webinars import audit
from webinars.jobs import enqueue_on_commit
from webinars.models import User, Webinar

log = logging.getLogger(__name__)

C = RelayCluster.State
N = RelayNode.State
W = Webinar.Status


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def node_key(code: str, region: str, role: str, index: int, generation: int = 1) -> str:
    key = f"{code}/{region}/{role}/{index}"
    return key if generation == 1 else f"{key}#{generation}"


def load(cluster_id: int) -> RelayCluster:
    return RelayCluster.objects.select_related("webinar__package", "webinar__organisation").get(
        pk=cluster_id
    )


def provider_of(cluster: RelayCluster) -> RelayProvider:
    return get_provider(cluster.provider)


# --- state changes: one audit row each -----------------------------------------------------


def set_cluster_state(
    cluster: RelayCluster,
    to: str,
    *,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
    fields: Iterable[str] = (),
    action: str = "",
) -> None:
    previous = cluster.state
    cluster.state = to
    cluster.save(update_fields=["state", "updated_at", *fields])
    audit.record(
        action or f"cluster.{to}",
        cluster,
        actor=actor,
        webinar=cluster.webinar,
        data={"from": previous} | (data or {}),
    )


def set_node_state(
    node: RelayNode,
    to: str,
    *,
    cluster: RelayCluster,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
    fields: Iterable[str] = (),
) -> None:
    previous = node.state
    node.state = to
    node.save(update_fields=["state", *fields])
    audit.record(
        f"relaynode.{to}",
        node,
        actor=actor,
        webinar=cluster.webinar,
        data={"from": previous} | (data or {}),
    )


def record_incident(
    cluster: RelayCluster,
    kind: str,
    detail: str,
    *,
    node: RelayNode | None = None,
    resolved: bool = False,
    actor: User | None = None,
) -> ClusterIncident:
    incident = ClusterIncident.objects.create(
        cluster=cluster,
        node=node,
        kind=kind,
        detail=detail[:500],
        resolved=resolved,
        resolved_at=timezone.now() if resolved else None,
    )
    audit.record(
        "cluster.incident",
        incident,
        actor=actor,
        webinar=cluster.webinar,
        data={"kind": kind, "node": node.request_key if node else "", "detail": detail[:500]},
    )
    return incident


def alert(cluster: RelayCluster, subject: str, detail: str) -> None:
    webinar = cluster.webinar
    transaction.on_commit(lambda: notify.alert(webinar, subject, detail))


# --- planning ------------------------------------------------------------------------------


@transaction.atomic
def plan_cluster(
    webinar_id: int, *, actor: User | None = None, provider: RelayProvider | None = None
) -> RelayCluster | None:
    """Plan the cluster of a confirmed booking from its sizing (scaled by the provider): a
    node row per region, role and slot, each with its request key, and the cascade over
    them. Idempotent: a second call returns the existing cluster. A booking that is no
    longer confirmed (cancelled before the task ran) gets none."""
    webinar = (
        Webinar.objects.select_for_update(no_key=True, of=("self",))
        .select_related("package", "organisation")
        .get(pk=webinar_id)
    )
    existing = RelayCluster.objects.filter(webinar=webinar).first()
    if existing is not None:
        return existing
    if webinar.status not in (W.CONFIRMED, W.LIVE):
        return None
    provider = provider or get_provider()
    scaled = provider.scale(webinar.cluster_plan)
    cluster = RelayCluster.objects.create(
        webinar=webinar,
        code=webinar.code,
        provider=provider.name,
        planned_nodes=scaled.actual_nodes,
        sized_nodes=scaled.planned_nodes,
        groups=[
            {"region": g.region, "role": str(g.role), "planned": g.planned, "actual": g.actual}
            for g in scaled.groups
        ],
        scale_note=scaled.note[:300],
        provision_after=webinar.start_at - timedelta(minutes=webinar.package.warmup_minutes),
    )
    rows = [
        RelayNode(
            cluster=cluster,
            region=g.region,
            role=str(g.role),
            index=i,
            request_key=node_key(cluster.code, g.region, str(g.role), i),
        )
        for g in scaled.groups
        for i in range(g.actual)
    ]
    RelayNode.objects.bulk_create(rows)
    cascade = cascade_over(cluster, rows)
    set_parents(rows, cascade)
    cluster.cascade = cascade
    cluster.save(update_fields=["cascade"])
    audit.record(
        "cluster.planned",
        cluster,
        actor=actor,
        webinar=webinar,
        data={
            "provider": provider.name,
            "nodes": scaled.actual_nodes,
            "sized_nodes": scaled.planned_nodes,
            "provision_after": cluster.provision_after.isoformat(),
        },
    )
    if timezone.now() >= cluster.provision_after:  # booked inside the warmup: start now
        enqueue_on_commit("events.tasks.provision_cluster_task", cluster_id=cluster.pk)
    return cluster


def cascade_over(cluster: RelayCluster, rows: Iterable[RelayNode]) -> dict[str, str | None]:
    """The standard tree over the given rows, by their roles in our records (a promoted
    spare is an edge here even though the provider booted it as a spare)."""
    nodes = [
        Node(r.request_key, cluster.code, r.region, Role(r.role), NodeState.RUNNING) for r in rows
    ]
    return dict(default_cascade(cluster.code, nodes).parents)


def set_parents(rows: Sequence[RelayNode], cascade: dict[str, str | None]) -> None:
    by_key = {r.request_key: r for r in rows}
    for r in rows:
        parent = cascade.get(r.request_key)
        r.parent = by_key[parent] if parent else None
    RelayNode.objects.bulk_update(rows, ["parent"], batch_size=500)


# --- claiming and provisioning -------------------------------------------------------------
