"""Reads for a webinar's team as people see it: open roles after declines, the
organiser's team panel, the rehearsal times offered with the technical lead, and a staff
member's calendar feed (found by its secret token)."""

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from events.models import Assignment, StaffMember, StaffRole
from events.selectors.staffing import Window, load_candidates, slots_of
from webinars.models import Webinar

REHEARSAL_LENGTH = timedelta(minutes=30)
REHEARSAL_DAYS_BEFORE = 7
# A rehearsal is offered at least this long from now, so the lead sees it in time.
REHEARSAL_NOTICE = timedelta(hours=2)
K = Assignment.Kind


def active_team(webinar: Webinar) -> QuerySet[Assignment]:
    """The people on the event itself (rehearsals aside), most senior role first."""
    return (
        Assignment.objects.filter(
            webinar=webinar, kind=K.EVENT, status__in=Assignment.ACTIVE_STATUSES
        )
        .select_related("staff", "staff__user", "webinar")
        .order_by("role", "staff__display_name")
    )


def open_roles(webinar: Webinar) -> list[str]:
    """The roles of the package nobody holds now (one entry per missing person)."""
    needs = Counter(slots_of({r: int(n) for r, n in (webinar.package.staff_roles or {}).items()}))
    held = Counter(active_team(webinar).values_list("role", flat=True))
    return sorted((needs - held).elements())


def decliners(webinar: Webinar) -> list[int]:
    """Members who declined this webinar: never asked again for it."""
    return list(
        Assignment.objects.filter(webinar=webinar, status=Assignment.Status.DECLINED).values_list(
            "staff_id", flat=True
        )
    )


def webinars_with_open_roles(*, limit: int = 200) -> list[int]:
    """Ids of confirmed, upcoming webinars missing someone of their team, soonest first."""
    upcoming = (
        Webinar.objects.filter(status=Webinar.Status.CONFIRMED, start_at__gt=timezone.now())
        .select_related("package")
        .order_by("start_at")
    )
    found: list[int] = []
    for webinar in upcoming.iterator():
        if open_roles(webinar):
            found.append(webinar.pk)
            if len(found) >= limit:
                break
    return found


def assignment_by_code(code: str) -> Assignment | None:
    try:
        uuid.UUID(code)
    except ValueError:
        return None  # not a code at all: a lookup would raise instead of finding nothing
    return (
        Assignment.objects.select_related("webinar", "staff", "staff__user")
        .filter(code=code)
        .first()
    )


def uninvited(webinar_id: int) -> list[Assignment]:
    """Active event assignments whose person has not been sent the invitation yet."""
    return list(
        Assignment.objects.filter(
            webinar_id=webinar_id,
            kind=K.EVENT,
            status__in=Assignment.ACTIVE_STATUSES,
            invited_at__isnull=True,
        ).select_related("webinar", "staff", "staff__user")
    )


def released_invited(webinar_id: int) -> list[Assignment]:
    """Released work of a cancelled webinar that its people had been told about."""
    return list(
        Assignment.objects.filter(
            webinar_id=webinar_id,
            status=Assignment.Status.RELEASED,
            invited_at__isnull=False,
        ).select_related("webinar", "staff", "staff__user")
    )


def technical_lead(webinar: Webinar) -> Assignment | None:
    return active_team(webinar).filter(role=StaffRole.TECHNICAL_LEAD).first()


def rehearsal_of(webinar: Webinar) -> Assignment | None:
    return (
        Assignment.objects.filter(
            webinar=webinar, kind=K.REHEARSAL, status__in=Assignment.ACTIVE_STATUSES
        )
        .select_related("staff")
        .first()
    )


def rehearsal_window(start: datetime) -> Window:
    return Window(start=start, end=start + REHEARSAL_LENGTH)


def rehearsal_slots(
    webinar: Webinar, lead_id: int, *, now: datetime | None = None
) -> list[datetime]:
    """Starts (UTC, on the half hour) of 30-minute rehearsals in the 7 days before the
    event's preparation at which the lead is on shift, not on leave and clear of their
    other work (rest gap included), as the assigner judges a window."""
    now = now or timezone.now()
    event_prep = webinar.start_at - timedelta(minutes=60)
    first = max(webinar.start_at - timedelta(days=REHEARSAL_DAYS_BEFORE), now + REHEARSAL_NOTICE)
    first = first.astimezone(UTC)
    # Round up to the next half hour.
    first = first.replace(second=0, microsecond=0)
    if first.minute % 30:
        first += timedelta(minutes=30 - first.minute % 30)
    if first >= event_prep:
        return []
    span = (first, event_prep + timedelta(hours=2))
    lead = next(
        (c for c in load_candidates([StaffRole.TECHNICAL_LEAD], span) if c.id == lead_id), None
    )
    if lead is None:
        return []
    slots: list[datetime] = []
    start = first
    while start + REHEARSAL_LENGTH <= event_prep:
        if lead.free_for(rehearsal_window(start)):
            slots.append(start)
        start += timedelta(minutes=30)
    return slots


def member_by_calendar_token(token: str) -> StaffMember | None:
    if not token or len(token) > 64 or "\x00" in token:
        return None
    return StaffMember.objects.filter(calendar_token=token, is_active=True).first()


def calendar_of(member: StaffMember, *, days_back: int = 30) -> list[Assignment]:
    """A member's active assignments and rehearsals from a month ago on, in time order."""
    since = timezone.now() - timedelta(days=days_back)
    return list(
        Assignment.objects.filter(
            staff=member,
            status__in=Assignment.ACTIVE_STATUSES,
            window__endswith__gte=since,
        )
        .select_related("webinar", "staff", "staff__user")
        .order_by("window")
    )
