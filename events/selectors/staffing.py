"""Reads of Event Services staffing: who is free for an event window, in their own time
zone, and whether a package's roles can be filled by distinct people.

Availability is computed per date: a member's weekly shift (wall-clock times in their
zone) becomes a UTC interval with that date's offset, so 09:00-17:00 in Berlin is
08:00-16:00 UTC in summer and 07:00-15:00 UTC in winter. Consecutive shifts merge (a
night shift running into the next day's early shift is one stretch), and a window must
lie inside one stretch. Time off and other active assignments (with the rest after them)
rule a member out.

These are unlocked reads: the quote uses them as they are; the assigner
(`events.services.staffing`) re-checks under the members' row locks and PostgreSQL's
exclusion constraint is the last line.
"""

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from events.models import Assignment
from events.models.staffing import PREP, REST, WRAP_UP
from events.selectors.roster import roster_as_of
from webinars.models import Package

Interval = tuple[datetime, datetime]
NO_TEAM = _("no Event Services team free at that time")


@dataclass(frozen=True)
class Window:
    """The work of an assignment: from `PREP` before the event to `WRAP_UP` after it."""

    start: datetime
    end: datetime

    @property
    def blocked_end(self) -> datetime:
        """Where the rest after this work ends: the exclusion constraint's range end."""
        return self.end + REST

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


def event_window(start_at: datetime, duration_minutes: int) -> Window:
    return Window(
        start=start_at - PREP, end=start_at + timedelta(minutes=duration_minutes) + WRAP_UP
    )


@cache
def zone_of(name: str) -> ZoneInfo:
    """ZoneInfo keeps only a few zones strongly cached; a roster spans more, and reloading
    a zone file on every hold is most of a hold's staffing cost otherwise."""
    return ZoneInfo(name)


def local_dates(time_zone: str, span: Interval) -> tuple[date, date]:
    """The dates in `time_zone` whose shifts can meet `span` (one more on either side:
    a night shift that started the day before, an early one the day after)."""
    zone = zone_of(time_zone)
    return (
        span[0].astimezone(zone).date() - timedelta(days=1),
        span[1].astimezone(zone).date() + timedelta(days=1),
    )


def shift_stretches(
    time_zone: str, shifts: Iterable[tuple[int, time, time]], span: Interval
) -> list[Interval]:
    """The member's shifts between `span`'s dates as merged UTC intervals, sorted.

    `shifts` are (weekday, starts, ends) in the member's zone; an end at or before the
    start runs into the next day. Each date converts with its own offset (a wall-clock
    time skipped by a DST change is read with the offset before the change)."""
    pattern = shifts if isinstance(shifts, tuple) else tuple(sorted(shifts))
    return list(_stretches(time_zone, pattern, *local_dates(time_zone, span)))


@lru_cache(maxsize=8192)
def _stretches(
    time_zone: str, shifts: tuple[tuple[int, time, time], ...], first: date, last: date
) -> tuple[Interval, ...]:
    # A pure function of its arguments (the shift pattern is part of the key), so caching
    # it per process is always correct; holds on the same days reuse it.
    zone = zone_of(time_zone)
    by_weekday: dict[int, list[tuple[time, time]]] = {}
    for weekday, starts, ends in shifts:
        by_weekday.setdefault(weekday, []).append((starts, ends))
    raw: list[Interval] = []
    day = first
    while day <= last:
        for starts, ends in by_weekday.get(day.weekday(), ()):
            end_day = day if ends > starts else day + timedelta(days=1)
            begin = datetime.combine(day, starts, tzinfo=zone).astimezone(UTC)
            finish = datetime.combine(end_day, ends, tzinfo=zone).astimezone(UTC)
            if finish > begin:
                raw.append((begin, finish))
        day += timedelta(days=1)
    raw.sort()
    merged: list[Interval] = []
    for begin, finish in raw:
        if merged and begin <= merged[-1][1]:
            if finish > merged[-1][1]:
                merged[-1] = (merged[-1][0], finish)
        else:
            merged.append((begin, finish))
    return tuple(merged)


def _overlaps(intervals: Sequence[Interval], start: datetime, end: datetime) -> bool:
    return any(s < end and start < e for s, e in intervals)


@dataclass
class Candidate:
    """One member as the assigner and the quote see them over a span of time."""

    id: int
    name: str
    roles: frozenset[str]
    languages: frozenset[str]
    stretches: Sequence[Interval]
    time_off: list[Interval] = field(default_factory=list)
    busy: list[Interval] = field(default_factory=list)  # blocked ranges of active assignments
    recent_hours: float = 0.0
    worked_with_organiser: int = 0
    _starts: list[datetime] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._starts = [s for s, _e in self.stretches]

    def on_shift(self, window: Window) -> bool:
        i = bisect_right(self._starts, window.start) - 1
        return i >= 0 and self.stretches[i][1] >= window.end

    def on_leave(self, window: Window) -> bool:
        return _overlaps(self.time_off, window.start, window.end)

    def busy_in(self, window: Window) -> bool:
        """Other active work within `window` or the rest after it."""
        return _overlaps(self.busy, window.start, window.blocked_end)

    def free_for(self, window: Window) -> bool:
        return self.on_shift(window) and not self.on_leave(window) and not self.busy_in(window)


# One round trip for what changes with every hold, in one snapshot: the roster generation
# (which copy of the roster these rows go with), active assignments meeting the span, and
# (for the assigner) what the preference order needs: hours assigned since a moment, and
# confirmed work for one organisation (per webinar of theirs through the assignments'
# webinar index; OFFSET 0 keeps the planner from flattening it into a join that, while
# the statistics lag a burst of holds, rescans every assignment per webinar). The
# roster itself comes from
# `events.selectors.roster`, read again only when its generation changed.
_WORK_SQL = """
SELECT 'g', NULL::bigint,
  (SELECT g.value || ':' || g.xmin FROM events_rostergeneration g WHERE g.id = 1),
  NULL::timestamptz, NULL::timestamptz, NULL::float8
UNION ALL
SELECT 'b', a.staff_id, NULL, lower(a.blocked), upper(a.blocked), NULL
  FROM events_assignment a
  WHERE a.status IN ('tentative', 'confirmed') AND a.blocked && tstzrange(%(from)s, %(until)s)
UNION ALL
SELECT 'h', a.staff_id, NULL, NULL, NULL,
       extract(epoch FROM sum(upper(a.window) - lower(a.window)))::float8
  FROM events_assignment a
  WHERE %(since)s::timestamptz IS NOT NULL AND a.created_at >= %(since)s
    AND a.status IN ('tentative', 'confirmed')
  GROUP BY a.staff_id
UNION ALL
SELECT 'w', a.staff_id, NULL, NULL, NULL, count(*)::float8
  FROM webinars_webinar w
  CROSS JOIN LATERAL (
    SELECT staff_id FROM events_assignment
    WHERE webinar_id = w.id AND status = 'confirmed'
    OFFSET 0
  ) a
  WHERE %(organisation)s::bigint IS NOT NULL AND w.organisation_id = %(organisation)s
  GROUP BY a.staff_id
"""


@dataclass
class _Work:
    generation: str | None = None
    busy: dict[int, list[Interval]] = field(default_factory=dict)
    seconds: dict[int, float] = field(default_factory=dict)
    worked: dict[int, int] = field(default_factory=dict)


def _read_work(params: dict[str, object]) -> _Work:
    work = _Work()
    with connection.cursor() as cursor:
        cursor.execute(_WORK_SQL, params)
        rows = cursor.fetchall()
    for kind, staff_id, generation, lower, upper, number in rows:
        if kind == "g":
            work.generation = generation
        elif kind == "b":
            work.busy.setdefault(staff_id, []).append((lower, upper))
        elif kind == "h":
            work.seconds[staff_id] = number
        else:
            work.worked[staff_id] = int(number)
    return work


def load_candidates(
    roles: Iterable[str],
    span: Interval,
    *,
    hours_since: datetime | None = None,
    organisation_id: int | None = None,
) -> list[Candidate]:
    """Active members having any of `roles`, with their shifts, time off and active
    assignments over `span` (the union of the windows asked about, rest included); with
    `hours_since` and `organisation_id`, also their hours assigned since then and their
    confirmed assignments for that organisation (the assigner's preference order)."""
    wanted = frozenset(roles)
    if not wanted:
        return []
    params = {
        "from": span[0],
        "until": span[1],
        "since": hours_since,
        "organisation": organisation_id,
    }
    # The roster and the assignments from one generation: a roster change committed
    # between the two reads sends us round again (twice at most; then the later roster
    # is used, as an unlocked read may: the assigner's locks and constraint decide).
    for _attempt in range(3):
        work = _read_work(params)
        read_at, entries = roster_as_of(work.generation)
        if read_at == work.generation:
            break
    dates: dict[str, tuple[date, date]] = {}
    candidates = []
    for entry in entries:
        if not entry.roles & wanted:
            continue
        if entry.time_zone not in dates:
            dates[entry.time_zone] = local_dates(entry.time_zone, span)
        between = dates[entry.time_zone]
        stretches = entry.memo.get(between)
        if stretches is None:
            computed = _stretches(entry.time_zone, entry.pattern, *between)
            stretches = entry.remember(between, computed)
        candidates.append(
            Candidate(
                id=entry.id,
                name=entry.name,
                roles=entry.roles,
                languages=entry.languages,
                stretches=stretches,
                time_off=[(s, e) for s, e in entry.time_off if s < span[1] and e > span[0]],
                busy=work.busy.get(entry.id, []),
                recent_hours=work.seconds.get(entry.id, 0.0) / 3600,
                worked_with_organiser=work.worked.get(entry.id, 0),
            )
        )
    return candidates


def active_assignments(staff_ids: list[int], span: Interval) -> QuerySet[Assignment]:
    """Active assignments of `staff_ids` whose blocked range meets `span`."""
    return Assignment.objects.filter(
        staff_id__in=staff_ids,
        status__in=Assignment.ACTIVE_STATUSES,
        blocked__overlap=span,
    )


def slots_of(needs: dict[str, int]) -> list[str]:
    """A package's `staff_roles` ({"moderator": 2, ...}) as one entry per person needed."""
    return [role for role, count in sorted(needs.items()) for _ in range(int(count))]


def can_fill(slots: Sequence[str], free: Sequence[Candidate]) -> bool:
    """Whether distinct people among `free` can take every slot: a bipartite matching
    (a person with several roles takes at most one), by augmenting paths."""
    options = [[c.id for c in free if role in c.roles] for role in slots]
    holder: dict[int, int] = {}  # person -> slot index

    def place(i: int, seen: set[int]) -> bool:
        for person in options[i]:
            if person in seen:
                continue
            seen.add(person)
            if person not in holder or place(holder[person], seen):
                holder[person] = i
                return True
        return False

    # Scarce slots first: fewer dead ends for the augmenting search.
    order = sorted(range(len(slots)), key=lambda i: len(options[i]))
    return all(place(i, set()) for i in order)


def team_fits(needs: dict[str, int], candidates: Sequence[Candidate], window: Window) -> bool:
    slots = slots_of(needs)
    if not slots:
        return True
    return can_fill(slots, [c for c in candidates if c.free_for(window)])


def roster_span(starts: Iterable[datetime], duration_minutes: int) -> Interval:
    """The span to load for event windows starting at `starts`, rest included."""
    ordered = sorted(starts)
    first = event_window(ordered[0], duration_minutes)
    last = event_window(ordered[-1], duration_minutes)
    return first.start - REST, last.blocked_end


def team_of(webinar_id: int) -> list[Assignment]:
    """A webinar's active team, most senior role first (for the admin and pages)."""
    return list(
        Assignment.objects.filter(webinar_id=webinar_id, status__in=Assignment.ACTIVE_STATUSES)
        .select_related("staff")
        .order_by("role", "staff__display_name")
    )


def overlapping_members(staff_ids: list[int], window: Window) -> set[int]:
    """Members of `staff_ids` with an active assignment too close to `window` (fresh read)."""
    return set(
        active_assignments(staff_ids, (window.start, window.blocked_end)).values_list(
            "staff_id", flat=True
        )
    )


def team_judge(
    package: Package, duration_minutes: int, span_from: datetime, span_until: datetime
) -> Callable[[datetime], str | None]:
    """The staffing check of the quote (`webinars.capacity_checks`): the roster is read
    once for every start between `span_from` and `span_until`; the judge then says, for
    one start, NO_TEAM when the package's roles cannot all be filled by people free for
    the event window, else None."""
    needs = {role: int(n) for role, n in (package.staff_roles or {}).items()}
    if not slots_of(needs):
        return lambda start: None
    candidates = load_candidates(needs, roster_span([span_from, span_until], duration_minutes))

    def judge(start: datetime) -> str | None:
        window = event_window(start, duration_minutes)
        return None if team_fits(needs, candidates, window) else str(NO_TEAM)

    return judge
