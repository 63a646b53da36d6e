"""Provisioning a planned relay cluster: the claim, creating nodes through the provider
(idempotent per request key), replacing failed boots, wiring the cascade, and `ready`.

Claiming: a cluster is provisioned by the one worker holding its claim (a token on the row,
taken under `SELECT ... FOR UPDATE SKIP LOCKED` and checked on every step). The holder
refreshes `claimed_at` on every step; a claim older than RELAY_CLAIM_TTL_S is stale (its
worker died) and beat's sweep hands the cluster to another worker, which carries on from
the node rows: every node's request key is written before the provider is called, and
providers never create a node twice for one key, so a retried or resumed run adds nothing.

Cloud providers' node creation goes to one task per region on the queue `relays.<region>`
(events/routing.py): the coordinator marks the planned rows `requested_at` and queues their
region; the region's worker creates them and records what the provider answered. A new
claim voids earlier requests (the region task checks the claim token), and a request older
than RELAY_REGION_DISPATCH_TIMEOUT_S is queued again (its worker died). With
RELAY_REGION_QUEUES off, and for the local Janus provider, the coordinator calls the
provider itself.

Provider calls happen outside database transactions (the Janus provider starts processes,
which a rollback could not undo); each state change is then written in its own short
transaction with its audit row.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from events import notify
from events.models import ClusterIncident, RelayCluster, RelayNode
from events.providers.base import QuotaExceeded, RateLimited, RelayProvider
from events.services.clusters import (
    alert,
    load,
    provider_of,
    record_incident,
    set_cluster_state,
    worker_name,
)
from events.services.nodes import observe, parallel, rewire, start_planned
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
        # The previous holder's region requests are void (their tasks check the token).
        RelayNode.objects.filter(cluster=cluster, state=N.PLANNED).update(requested_at=None)
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


def _fail(cluster: RelayCluster, exc: QuotaExceeded) -> None:
    with transaction.atomic():
        locked = RelayCluster.objects.select_for_update().get(pk=cluster.pk)
        if locked.state != C.PROVISIONING:
            return  # another region's task failed it first
        record_incident(cluster, ClusterIncident.Kind.PROVIDER_ERROR, str(exc))
        alert(cluster, "provider quota exceeded", str(exc))
        set_cluster_state(cluster, C.FAILED, data={"reason": str(exc)})


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
                _fail(cluster, exc)
                return C.FAILED
            if time.monotonic() >= deadline:
                _release(cluster_id, token)
                return C.PROVISIONING
            time.sleep(settings.RELAY_POLL_INTERVAL_S)
    except BaseException:
        _release(cluster_id, token)
        raise


def _queued(provider: RelayProvider) -> bool:
    """Whether node creation goes to the region queues (a cloud provider, queues on)."""
    return settings.RELAY_REGION_QUEUES and parallel(provider)


def dispatch_planned(cluster: RelayCluster, *, token: uuid.UUID) -> list[str]:
    """Queue the creation of the planned rows not yet requested (or whose request went
    stale) on their regions' queues, one task per region. Returns the regions queued."""
    stale = timezone.now() - timedelta(seconds=settings.RELAY_REGION_DISPATCH_TIMEOUT_S)
    with transaction.atomic():
        due = RelayNode.objects.filter(cluster=cluster, state=N.PLANNED).filter(
            Q(requested_at__isnull=True) | Q(requested_at__lt=stale)
        )
        regions = sorted(set(due.values_list("region", flat=True)))
        due.update(requested_at=timezone.now())
        for region in regions:
            enqueue_on_commit(
                "events.tasks.issue_region_nodes_task",
                cluster_id=cluster.pk,
                region=region,
                token=str(token),
            )
    return regions


def issue_region_nodes(cluster_id: int, region: str, *, token: str) -> int:
    """What a region's worker does: create the region's planned nodes under their request
    keys and record what the provider answered. Nothing when the claim that queued it has
    been replaced (a new holder queues its own requests) or the cluster moved on. A rate
    limit gives the rows back to the coordinator's next pass; a quota fails the cluster.
    Returns the number of nodes the provider answered for."""
    cluster = load(cluster_id)
    if cluster.state != C.PROVISIONING or str(cluster.claim_token) != token:
        return 0
    rows = list(RelayNode.objects.filter(cluster=cluster, region=region, state=N.PLANNED))
    if not rows:
        return 0
    provider = provider_of(cluster)
    try:
        return start_planned(cluster, provider, rows)
    except RateLimited:
        RelayNode.objects.filter(pk__in=[r.pk for r in rows], state=N.PLANNED).update(
            requested_at=None
        )
        return 0
    except QuotaExceeded as exc:
        _fail(cluster, exc)
        return 0


def provision_step(cluster: RelayCluster, provider: RelayProvider, *, token: uuid.UUID) -> bool:
    """One pass: start planned nodes, observe booting ones, and once every slot is up, wire
    and mark the cluster ready. True when ready."""
    rows = list(RelayNode.objects.filter(cluster=cluster, state__in=(N.PLANNED, N.PENDING)))
    if _queued(provider):
        observe(cluster, provider, rows, issue=False)
        dispatch_planned(cluster, token=token)  # the plan's rows, then replacements
    else:
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
