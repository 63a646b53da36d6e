"""What beat finds due for relay clusters: provisioning from `start - warmup` (and stale
claims), the readiness alert (projected late, or still not ready shortly before the
start), and the booking's moves to live and completed. Each runs its changes in short
transactions, locking the cluster first."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from events.models import ClusterIncident, RelayCluster, RelayNode
from events.selectors import relays as selectors
from events.services.clusters import (
    alert,
    load,
    provider_of,
    record_incident,
    set_cluster_state,
)
from webinars import services as webinar_services
from webinars.jobs import enqueue_on_commit
from webinars.models import Webinar

C = RelayCluster.State
W = Webinar.Status


def due_for_provisioning(*, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Planned clusters from `start - warmup`, and provisioning ones whose worker stopped
    refreshing its claim (or gave it back), of bookings still confirmed."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.RELAY_CLAIM_TTL_S)
    planned = RelayCluster.objects.filter(
        state=C.PLANNED, provision_after__lte=now, webinar__status__in=(W.CONFIRMED, W.LIVE)
    )
    orphaned = RelayCluster.objects.filter(state=C.PROVISIONING).exclude(claimed_at__gte=stale)
    return list(planned.values_list("pk", flat=True)[:limit]) + list(
        orphaned.values_list("pk", flat=True)[:limit]
    )


def provision_due_clusters(*, now: datetime | None = None) -> list[int]:
    ids = due_for_provisioning(now=now)
    for cluster_id in ids:
        enqueue_on_commit("events.tasks.provision_cluster_task", cluster_id=cluster_id)
    return ids


def check_readiness(*, now: datetime | None = None) -> list[str]:
    """Alert Event Services (email, incident, flag on the booking) once per cluster that
    will not be ready by the start: as soon as provisioning is due and the projection
    (`projected_ready_at`: what is left, at the provider's API rate and boot time) passes
    the start, and in any case when it is still not ready RELAY_READY_ALERT_MINUTES before
    the start, or has failed."""
    now = now or timezone.now()
    horizon = now + timedelta(minutes=settings.RELAY_READY_ALERT_MINUTES)
    candidates = RelayCluster.objects.filter(
        Q(webinar__start_at__lte=horizon) | Q(provision_after__lte=now),
        state__in=(C.PLANNED, C.PROVISIONING, C.FAILED),
        late_alerted_at__isnull=True,
        webinar__status=W.CONFIRMED,
    ).values_list("pk", flat=True)
    alerted = []
    for cluster_id in candidates:
        cluster = load(cluster_id)
        projected = (
            None
            if cluster.state == C.FAILED
            else selectors.projected_ready_at(cluster, provider_of(cluster), now=now)
        )
        start = cluster.webinar.start_at
        if cluster.state != C.FAILED and start > horizon and (projected or now) <= start:
            continue  # on course
        with transaction.atomic():
            cluster = RelayCluster.objects.select_for_update(of=("self",)).get(pk=cluster_id)
            if cluster.late_alerted_at is not None:
                continue
            cluster = load(cluster_id)
            up = cluster.nodes.filter(state__in=RelayNode.UP_STATES).count()
            detail = (
                f"The relay cluster is {cluster.get_state_display().lower()} with {up} of "
                f"{cluster.planned_nodes} nodes up and will not be ready by the start"
            )
            if projected is not None and projected > start:
                late_s = int((projected - start).total_seconds())
                detail += f" (projected {late_s // 60} min {late_s % 60} s late)"
            cluster.late_alerted_at = now
            cluster.save(update_fields=["late_alerted_at", "updated_at"])
            record_incident(cluster, ClusterIncident.Kind.NOT_READY, detail + ".")
            webinar_services.flag_webinar(
                cluster.webinar, actor=None, reason="Relay cluster not ready by the start"
            )
            alert(cluster, "cluster not ready by the start", detail + ".")
            alerted.append(cluster.code)
    return alerted


def start_due_webinars(*, now: datetime | None = None) -> list[str]:
    """Ready clusters whose start has come: the booking goes live, the cluster too."""
    now = now or timezone.now()
    due = RelayCluster.objects.filter(
        state=C.READY, webinar__status=W.CONFIRMED, webinar__start_at__lte=now
    ).values_list("pk", flat=True)
    started = []
    for cluster_id in due:
        with transaction.atomic():
            cluster = RelayCluster.objects.select_for_update(of=("self",)).get(pk=cluster_id)
            if cluster.state != C.READY:
                continue
            cluster = load(cluster_id)
            webinar_services.start_webinar(cluster.webinar, actor=None)
            set_cluster_state(cluster, C.LIVE)
            started.append(cluster.code)
    return started


def complete_due_webinars(*, now: datetime | None = None) -> list[str]:
    """Live bookings whose end has passed become completed (teardown follows at end +
    drain, see teardown.py)."""
    now = now or timezone.now()
    live = RelayCluster.objects.filter(webinar__status=W.LIVE).select_related("webinar")
    done = []
    for cluster in live:
        if cluster.webinar.end_at <= now:
            webinar_services.complete_webinar(cluster.webinar, actor=None)
            done.append(cluster.code)
    return done
