"""The staff calendar's week: per day of one week (in the viewer's zone), the webinars
that have Event Services people on them, and the active assignments and rehearsals, with
person, role and times. Filters by person and role."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from events.models import Assignment

K = Assignment.Kind


@dataclass(frozen=True)
class Entry:
    """One line of a day: an assignment (event work or a rehearsal)."""

    kind: str
    person: str
    role: str
    status: str
    starts: datetime
    ends: datetime
    webinar: str
    webinar_code: str


@dataclass(frozen=True)
class Event:
    """A webinar that starts on the day and has people on it (after the filters)."""

    title: str
    code: str
    starts: datetime
    ends: datetime
    team: tuple[str, ...]


@dataclass
class Day:
    day: date
    events: list[Event] = field(default_factory=list)
    assignments: list[Entry] = field(default_factory=list)
    rehearsals: list[Entry] = field(default_factory=list)


def week_grid(
    monday: date, zone: ZoneInfo, *, staff_id: int | None = None, role: str = ""
) -> list[Day]:
    """The seven days from `monday` (midnight to midnight in `zone`). Work spanning
    midnight is listed on each day it touches; times are in `zone`."""
    begin = datetime.combine(monday, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), datetime.min.time(), tzinfo=zone)
    rows = Assignment.objects.filter(
        status__in=Assignment.ACTIVE_STATUSES, window__overlap=(begin, end)
    ).select_related("staff", "webinar")
    if staff_id is not None:
        rows = rows.filter(staff_id=staff_id)
    if role:
        rows = rows.filter(role=role)
    days = [Day(day=monday + timedelta(days=i)) for i in range(7)]
    teams: dict[int, list[Assignment]] = {}
    for a in rows.order_by("window", "role", "staff__display_name"):
        starts, ends = a.window.lower.astimezone(zone), a.window.upper.astimezone(zone)
        entry = Entry(
            kind=a.kind,
            person=a.staff.display_name,
            role=a.get_role_display(),
            status=a.get_status_display(),
            starts=starts,
            ends=ends,
            webinar=a.webinar.title,
            webinar_code=a.webinar.code,
        )
        for d in days:
            day_begin = datetime.combine(d.day, datetime.min.time(), tzinfo=zone)
            if starts < day_begin + timedelta(days=1) and ends > day_begin:
                (d.rehearsals if a.kind == K.REHEARSAL else d.assignments).append(entry)
        if a.kind == K.EVENT:
            teams.setdefault(a.webinar_id, []).append(a)
    for team in teams.values():
        webinar = team[0].webinar
        starts = webinar.start_at.astimezone(zone)
        for d in days:
            if starts.date() == d.day:
                d.events.append(
                    Event(
                        title=webinar.title,
                        code=webinar.code,
                        starts=starts,
                        ends=starts + timedelta(minutes=webinar.duration_minutes),
                        team=tuple(
                            f"{a.staff.display_name} ({a.get_role_display()})" for a in team
                        ),
                    )
                )
    for d in days:
        d.events.sort(key=lambda e: (e.starts, e.code))
    return days
