"""Teardown: at `end + drain` (beat), at once when the booking is cancelled or expires,
or when staff press "tear down now". Drain every node, terminate it, ask the provider to
drop everything else the webinar holds, then sweep: `list_resources` must come back empty,
else a leak incident and an alert. Idempotent: a retried teardown finds the nodes already
terminated and sweeps again."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from events.models import ClusterIncident, RelayCluster, RelayNode
from events.providers.base import NodeState, RelayProvider
from events.services.clusters import (
    alert,
    load,
    provider_of,
    record_incident,
    set_cluster_state,
    set_node_state,
)
from webinars.fleet import DRAIN
from webinars.jobs import enqueue_on_commit
from webinars.models import User, Webinar

C = RelayCluster.State
N = RelayNode.State


def teardown_cluster(
    cluster_id: int,
    *,
    actor: User | None = None,
    reason: str = "",
    provider: RelayProvider | None = None,
) -> RelayCluster:
    with transaction.atomic():
        cluster = RelayCluster.objects.select_for_update(of=("self",)).get(pk=cluster_id)
        if cluster.is_final:
            return cluster
        cluster = load(cluster_id)
        if cluster.state != C.DRAINING:
            cluster.claim_token, cluster.claimed_at = None, None  # stops a provisioning loop
            set_cluster_state(
                cluster,
                C.DRAINING,
                actor=actor,
                data={"reason": reason},
                fields=["claim_token", "claimed_at"],
            )
    provider = provider or provider_of(cluster)
    rows = list(cluster.nodes.filter(state__in=RelayNode.LIVE_STATES))
    at_provider = {n.request_key: n for n in provider.describe(cluster.code)}
    for row in rows:
        node = at_provider.get(row.request_key)
        if node is not None and node.state == NodeState.RUNNING:
            provider.drain(node)
        if row.state != N.DRAINING and node is not None:
            with transaction.atomic():
                set_node_state(row, N.DRAINING, cluster=cluster, actor=actor)
    for row in rows:
        node = at_provider.get(row.request_key)
        if node is not None:
            provider.terminate(node)
        with transaction.atomic():
            row.terminated_at = timezone.now() if row.started_at else None
            set_node_state(
                row, N.TERMINATED, cluster=cluster, actor=actor, fields=["terminated_at"]
            )
    provider.teardown(cluster.code)
    leftovers = provider.list_resources(cluster.code)
    final = (
        C.CANCELLED
        if cluster.webinar.status in (Webinar.Status.CANCELLED, Webinar.Status.EXPIRED)
        else C.TORN_DOWN
    )
    with transaction.atomic():
        if leftovers:
            detail = "Left at the provider after teardown: " + ", ".join(
                f"{r.kind} {r.id}" for r in leftovers[:20]
            )
            record_incident(cluster, ClusterIncident.Kind.LEAK, detail)
            alert(cluster, "resources leaked after teardown", detail)
        cluster.torn_down_at = timezone.now()
        set_cluster_state(
            cluster,
            final,
            actor=actor,
            data={"leftovers": len(leftovers)},
            fields=["torn_down_at"],
        )
    return cluster


def teardown_due_clusters(*, now: datetime | None = None) -> list[int]:
    """Clusters whose webinar ended more than the drain time ago (fleet.DRAIN, the same
    window the ledger reserves), and clusters of bookings no longer going ahead."""
    now = now or timezone.now()
    open_clusters = RelayCluster.objects.exclude(
        state__in=RelayCluster.FINAL_STATES
    ).select_related("webinar")
    due = [
        c.pk
        for c in open_clusters
        if c.webinar.end_at + DRAIN <= now
        or c.webinar.status in (Webinar.Status.CANCELLED, Webinar.Status.EXPIRED)
    ]
    for cluster_id in due:
        enqueue_on_commit("events.tasks.teardown_cluster_task", cluster_id=cluster_id)
    return due


def teardown_for_webinar(webinar_id: int, *, reason: str) -> None:
    """Receiver side of booking_cancelled / booking_expired: tear down at once."""
    cluster_id = (
        RelayCluster.objects.filter(webinar_id=webinar_id)
        .exclude(state__in=RelayCluster.FINAL_STATES)
        .values_list("pk", flat=True)
        .first()
    )
    if cluster_id is not None:
        enqueue_on_commit(
            "events.tasks.teardown_cluster_task", cluster_id=cluster_id, reason=reason
        )
