"""Reads of the booking core: quotes with availability and alternatives, dashboards,
timelines, and the one permission-checking fetch per resource."""

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from webinars import capacity_checks, fleet, tax_estimates
from webinars.models import AuditEntry, Organisation, Package, User, Webinar
from webinars.rules import BookingRequest
from webinars.sizing import ClusterPlan
from webinars.tax_estimates import TaxEstimate


@dataclass
class Quote:
    request: BookingRequest
    plan: ClusterPlan
    available: bool
    full_regions: list[str] = field(default_factory=list)
    # Why a registered capacity check refuses the time, e.g. "no Event Services team free
    # at that time"; empty when every check fits.
    refusals: list[str] = field(default_factory=list)
    alternatives: list[datetime] = field(default_factory=list)
    # VAT for the organisation asking; None for a visitor (the price is then net).
    tax: TaxEstimate | None = None

    @property
    def price_minor(self) -> int:
        return self.request.package.price_minor

    @property
    def currency(self) -> str:
        return self.request.package.currency

    def as_dict(self) -> dict[str, object]:
        return {
            "package": self.request.package.code,
            "price_minor": self.price_minor,
            "currency": self.currency,
            "start_at": self.request.start_at.isoformat(),
            "duration_minutes": self.request.duration_minutes,
            "timezone": self.request.timezone,
            "audience_split": self.request.split,
            "cluster": self.plan.as_dict(),
            "available": self.available,
            "full_regions": self.full_regions,
            "refusals": self.refusals,
            "alternatives": [a.isoformat() for a in self.alternatives],
        }


def quote_webinar(
    request: BookingRequest,
    *,
    now: datetime | None = None,
    organisation: Organisation | None = None,
) -> Quote:
    """Price, cluster and availability for a validated request, with the VAT treatment for
    `organisation` when one is given; when the fleet is full at that time or a capacity
    check refuses it (no Event Services team free), the nearest start times where the
    fleet and every check fit, on both sides of it (see `nearest_alternatives`)."""
    plan = request.plan()
    need = request.slot_need(plan)
    free = fleet.free_nodes(need.region_ids, need.slot_from, need.slot_until)
    full = sorted(
        {
            request.regions[code].code
            for code, region in request.regions.items()
            if any(
                free.free_at(region.id, slot) < need.nodes_by_region[region.id]
                for slot in _slots(need.slot_from, need.slot_until)
            )
        }
    )
    refusals = capacity_checks.refusals(
        capacity_checks.judges(request, request.start_at, request.start_at), request.start_at
    )
    quote = Quote(
        request=request,
        plan=plan,
        available=not full and not refusals,
        full_regions=full,
        refusals=[str(reason) for reason in refusals],
        tax=tax_estimates.estimate(
            organisation, request.package.price_minor, request.package.currency
        ),
    )
    if not quote.available:
        quote.alternatives = nearest_alternatives(request, need, now=now)
    return quote


def _slots(slot_from: datetime, slot_until: datetime) -> list[datetime]:
    count = int((slot_until - slot_from) / fleet.SLOT)
    return [slot_from + i * fleet.SLOT for i in range(count)]


def nearest_alternatives(
    request: BookingRequest,
    need: fleet.SlotNeed,
    *,
    now: datetime | None = None,
    per_side: int = 2,
) -> list[datetime]:
    """Start times that work, nearest first on each side of the requested one: up to
    `per_side` earlier and `per_side` later (when one side has fewer, the other fills in),
    in chronological order. Candidates step by 15 minutes within ALTERNATIVE_SEARCH_DAYS,
    never before the package's lead time nor beyond the booking horizon. An organiser who
    asked for 15:00 usually can move either way; offering only later times (or only
    earlier ones) would hide half of the options. A candidate must also pass every
    registered capacity check (`webinars.capacity_checks`), asked only about candidates
    the fleet already fits, each check loaded once for the whole search."""
    now = now or timezone.now()
    days = timedelta(days=settings.ALTERNATIVE_SEARCH_DAYS)
    window = need.slot_until - need.slot_from
    lead = need.slot_from - request.start_at  # negative: warm-up before the start
    search_from, search_until = need.slot_from - days, need.slot_until + days
    free = fleet.free_nodes(need.region_ids, search_from, search_until)
    # Every slot index where some region lacks room; a candidate works if its window
    # contains none of them (bisect keeps this O(candidates x log n)).
    bad = sorted(
        {
            int((slot - search_from) / fleet.SLOT)
            for region_id, slots in free.free.items()
            for slot, free_count in slots.items()
            if free_count < need.nodes_by_region[region_id]
        }
        | {
            int((slot - search_from) / fleet.SLOT)
            for region_id, size in free.fleet_size.items()
            if size < need.nodes_by_region[region_id]
            for slot in _slots(search_from, search_until)
        }
    )
    width = int(window / fleet.SLOT)
    earliest = max(now + timedelta(days=request.package.lead_time_days), now)
    latest = now + timedelta(days=settings.BOOKING_HORIZON_DAYS)
    steps = int(days / fleet.SLOT)
    total = 2 * per_side
    judges = capacity_checks.judges(request, request.start_at - days, request.start_at + days)

    def works(start: datetime) -> bool:
        if not earliest <= start <= latest:
            return False
        first = int((fleet.floor_slot(start + lead) - search_from) / fleet.SLOT)
        i = bisect_left(bad, first)
        if i < len(bad) and bad[i] < first + width:
            return False
        return not capacity_checks.refusals(judges, start)

    def side(sign: int) -> list[datetime]:
        found: list[datetime] = []
        for distance in range(1, steps + 1):
            start = request.start_at + sign * distance * fleet.SLOT
            if works(start):
                found.append(start)
                if len(found) == total:
                    break
        return found

    earlier, later = side(-1), side(1)
    take_earlier = max(per_side, total - len(later))
    chosen = earlier[:take_earlier] + later[: total - min(len(earlier), take_earlier)]
    return sorted(chosen)


def webinars_for_user(user: User) -> QuerySet[Webinar]:
    """The webinars an organiser may see: their own organisation's, nothing else."""
    organisation = organisation_for_user(user)
    if organisation is None:
        return Webinar.objects.none()
    return (
        Webinar.objects.filter(organisation=organisation)
        .select_related("package")
        .order_by("-start_at")
    )


@dataclass
class Dashboard:
    upcoming: list[Webinar]
    past: list[Webinar]


def dashboard_for_user(user: User, *, now: datetime | None = None) -> Dashboard:
    """ "My webinars" in two groups. Upcoming: bookings that will still happen (held,
    awaiting funds, confirmed or live) and have not ended, soonest first. Past: everything
    else, most recent start first; a cancelled or expired booking is listed there even if
    its date is ahead, because it will not take place."""
    now = now or timezone.now()
    upcoming: list[Webinar] = []
    past: list[Webinar] = []
    for webinar in webinars_for_user(user):  # most recent start first
        if webinar.status in Webinar.HOLDING_STATUSES and webinar.end_at > now:
            upcoming.append(webinar)
        else:
            past.append(webinar)
    upcoming.reverse()
    return Dashboard(upcoming=upcoming, past=past)


def organisation_for_user(user: User) -> Organisation | None:
    if not user.is_authenticated:
        return None
    membership = getattr(user, "membership", None)
    return membership.organisation if membership else None


def get_webinar_for_user(user: User, code: str) -> Webinar:
    """The one fetch for a webinar by code: 404 for other organisations' webinars, so a
    response never reveals that a code exists."""
    if "\x00" in code:
        # No code holds a NUL, and PostgreSQL would refuse the lookup with a 500.
        raise Http404("No such webinar.")
    try:
        return webinars_for_user(user).get(code=code)
    except Webinar.DoesNotExist as exc:
        raise Http404("No such webinar.") from exc


def timeline(webinar: Webinar) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(webinar=webinar)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def active_packages() -> QuerySet[Package]:
    return Package.objects.filter(is_active=True).order_by("capacity")
