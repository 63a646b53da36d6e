"""The operations overview of Event Services (the admin's start page): the webinars of the
next days that are confirmed or live, and every open flag, each with what needs doing.

Two queries whatever the number of webinars: the webinars with their package,
organisation and relay cluster (nodes up counted by a subquery), then their active
assignments (event and rehearsal) in one prefetch. Everything else is computed here.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from events.models import Assignment, RelayCluster, RelayNode
from events.selectors.staffing import slots_of
from webinars.models import Webinar

DAYS_AHEAD = 7
K = Assignment.Kind
S = Webinar.Status
# Webinars whose delivery Event Services runs; a flag is shown on any booking that still
# holds capacity (a staffing flag may sit on an event weeks away, a payment flag on a hold).
DELIVERED = (S.CONFIRMED, S.LIVE)


@dataclass(frozen=True)
class ClusterFacts:
    pk: int
    state: str
    state_label: str
    nodes_up: int
    nodes_planned: int


@dataclass
class OverviewItem:
    """One webinar of the overview, with what an operator checks before its start."""

    webinar: Webinar
    cluster: ClusterFacts | None
    roles_needed: int
    roles_filled: int
    open_roles: list[str] = field(default_factory=list)
    pending_acceptances: int = 0
    rehearsal_at: datetime | None = None

    @property
    def flagged(self) -> bool:
        return self.webinar.needs_attention

    @property
    def team_complete(self) -> bool:
        return not self.open_roles


def _nodes_up() -> Subquery:
    up = (
        RelayNode.objects.filter(cluster=OuterRef("relay_cluster"), state__in=RelayNode.UP_STATES)
        .order_by()
        .values("cluster")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(up, output_field=IntegerField()), 0)


def operations_overview(
    *, now: datetime | None = None, days: int = DAYS_AHEAD
) -> list[OverviewItem]:
    """Confirmed and live webinars starting before `now + days` that have not ended
    (occupied until after `now`), and every flagged webinar still holding capacity;
    flagged first, then by start."""
    now = now or timezone.now()
    upcoming = Q(status__in=DELIVERED, start_at__lt=now + timedelta(days=days))
    flagged = Q(needs_attention=True, status__in=Webinar.HOLDING_STATUSES)
    active = Assignment.objects.filter(status__in=Assignment.ACTIVE_STATUSES).order_by(
        "window", "pk"
    )
    webinars = (
        Webinar.objects.filter(upcoming | flagged, occupied_until__gt=now)
        .select_related("package", "organisation", "relay_cluster")
        .annotate(nodes_up=_nodes_up())
        .prefetch_related(Prefetch("assignments", queryset=active, to_attr="active_work"))
        .order_by("-needs_attention", "start_at", "pk")
    )
    return [_item(webinar) for webinar in webinars]


def _cluster(webinar: Webinar) -> ClusterFacts | None:
    try:
        cluster: RelayCluster = webinar.relay_cluster  # type: ignore[attr-defined]
    except RelayCluster.DoesNotExist:
        return None
    return ClusterFacts(
        pk=cluster.pk,
        state=cluster.state,
        state_label=str(cluster.get_state_display()),
        nodes_up=int(webinar.nodes_up),  # type: ignore[attr-defined]
        nodes_planned=cluster.planned_nodes,
    )


def _item(webinar: Webinar) -> OverviewItem:
    work: list[Assignment] = webinar.active_work  # type: ignore[attr-defined]
    team = [a for a in work if a.kind == K.EVENT]
    rehearsals = [a for a in work if a.kind == K.REHEARSAL]
    needs = Counter(slots_of({r: int(n) for r, n in (webinar.package.staff_roles or {}).items()}))
    held = Counter(a.role for a in team)
    return OverviewItem(
        webinar=webinar,
        cluster=_cluster(webinar),
        roles_needed=sum(needs.values()),
        roles_filled=sum((held & needs).values()),
        open_roles=sorted((needs - held).elements()),
        # Invited and not yet accepted: the people to chase before the event.
        pending_acceptances=sum(1 for a in team if a.invited_at and not a.accepted_at),
        rehearsal_at=rehearsals[0].window.lower if rehearsals else None,
    )
