"""The independent view of bench/staffing.py: who is on shift per 15-minute slot, read
from the roster itself (not through the assigner's code), the upper bound of what any
assigner could staff, and the violations of a finished run."""

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

SLOT = timedelta(minutes=15)


# -- the independent view of the roster: per 15-minute slot, who is on shift -------------


def _on_shift(shifts: list[tuple[int, clock, clock]], zone: ZoneInfo, moment: datetime) -> bool:
    """Whether `moment` (UTC) falls inside one of the member's weekly shifts, read in
    their zone at that moment (an overnight shift belongs to the day it started)."""
    local = moment.astimezone(zone)
    t, weekday = local.time(), local.weekday()
    for day, starts, ends in shifts:
        overnight = ends <= starts
        if day == weekday and t >= starts and (overnight or t < ends):
            return True
        if overnight and (day + 1) % 7 == weekday and t < ends:
            return True
    return False


def _window_slots(start: datetime, duration: int) -> list[datetime]:
    first = start - timedelta(minutes=60)
    end = start + timedelta(minutes=duration + 30)
    return [first + i * SLOT for i in range(int((end - first) / SLOT))]


def roster_view() -> list[dict]:
    from events.models import StaffMember

    view = []
    for m in StaffMember.objects.prefetch_related("shifts", "time_off"):
        view.append(
            {
                "id": m.id,
                "roles": set(m.roles),
                "zone": ZoneInfo(m.time_zone),
                "shifts": [(s.weekday, s.starts, s.ends) for s in m.shifts.all()],
                "leave": [(t.starts_at, t.ends_at) for t in m.time_off.all()],
            }
        )
    return view


def available(member: dict, moment: datetime) -> bool:
    """On shift for the whole slot starting at `moment`, and not on leave then."""
    ends = moment + SLOT - timedelta(seconds=1)
    return (
        _on_shift(member["shifts"], member["zone"], moment)
        and _on_shift(member["shifts"], member["zone"], ends)
        and not any(s < moment + SLOT and moment < e for s, e in member["leave"])
    )


REST_SLOTS = 4  # the 60-minute rest after an assignment, in slots


def _blocked_slots(start: datetime, duration: int) -> list[datetime]:
    """The window's slots and the rest after it (the exclusion constraint's range)."""
    slots = _window_slots(start, duration)
    return slots + [slots[-1] + i * SLOT for i in range(1, REST_SLOTS + 1)]


def _groups(items: list["Item"], slots_of: str) -> list[list["Item"]]:
    """`items` in groups whose slots (`slots_of`: window, or window and rest) overlap,
    transitively."""
    items = sorted(items, key=lambda x: getattr(x, slots_of)[0])
    groups: list[list[Item]] = []
    group_end = None
    for item in items:
        slots = getattr(item, slots_of)
        first, end = slots[0], slots[-1] + SLOT
        if group_end is None or first >= group_end:
            groups.append([])
            group_end = end
        groups[-1].append(item)
        group_end = max(group_end, end)
    return groups


@dataclass(frozen=True)
class Item:
    """One request as the bound sees it."""

    window: list[datetime]  # its slots of work
    blocked: list[datetime]  # and of the rest after it
    need: dict[str, int]
    # per set of roles: the members (a bit each) having one of them and on shift, not on
    # leave, for every slot of the window; only they can take the request's seats
    free: dict[frozenset[str], int]


def _drops(group: list[Item], slots_of: str, role_sets: list[frozenset[str]]) -> int:
    """The fewest requests of `group` that must go so that, at every slot and for every
    set of roles R, the seats in R of the requests covering the slot (by their window,
    or their window and rest: `slots_of`) fit the members who could take one of them:
    the union of the requests' `free[R]`."""
    demand: dict[tuple[frozenset, datetime], int] = defaultdict(int)
    people: dict[tuple[frozenset, datetime], int] = defaultdict(int)
    largest: dict[frozenset, int] = defaultdict(int)
    for item in group:
        for roles in role_sets:
            n = sum(item.need.get(r, 0) for r in roles)
            if not n:
                continue
            largest[roles] = max(largest[roles], n)
            for slot in getattr(item, slots_of):
                demand[(roles, slot)] += n
                people[(roles, slot)] |= item.free[roles]
    worst = 0
    for key, wanted in demand.items():
        excess = wanted - people[key].bit_count()
        if excess > 0:
            worst = max(worst, math.ceil(excess / largest[key[0]]))
    return worst


def upper_bound(requests: list[dict], roster: list[dict], needs: dict[str, dict]) -> int:
    """At most how many of `requests` any assigner can staff (see the module docstring).

    A seat of a request can only go to a member with the role who is on shift and not on
    leave for the request's whole window. Per 15-minute slot and per set of roles R (one
    person fills one role at a time), two necessary conditions:

    - working: the seats in R of the requests whose window covers the slot are at most
      the members who could take one of those seats;
    - blocked: the same for the requests whose window *or the rest after it* covers the
      slot (PostgreSQL refuses overlapping blocked ranges of one member, so a member
      working or resting at the slot holds a seat of exactly one of these requests).

    A request that breaks a condition on its own is dropped; then in each group of
    requests whose blocked ranges overlap, at least the largest number any condition
    forces out (its excess over the most seats one request has there) must be dropped.
    Dropping requests only shrinks the members who could take the remaining seats, so
    this count is a lower bound on the drops. The bound ignores that an assigner cannot
    see future requests, so it is >= any assigner's result."""
    names = sorted({role for need in needs.values() for role in need})
    role_sets = [
        frozenset(c) for k in range(1, len(names) + 1) for c in itertools.combinations(names, k)
    ]
    available_at: dict[datetime, int] = {}

    def on_shift(slot: datetime) -> int:
        if slot not in available_at:
            available_at[slot] = sum(
                1 << i for i, m in enumerate(roster) if available(m, slot)
            )  # fmt: skip
        return available_at[slot]

    having = {
        roles: sum(1 << i for i, m in enumerate(roster) if roles & m["roles"])
        for roles in role_sets
    }
    feasible = []
    for r in requests:
        start = r["start"].replace(tzinfo=UTC)
        window = _window_slots(start, r["duration"])
        whole = -1
        for slot in window:
            whole &= on_shift(slot)
        item = Item(
            window=window,
            blocked=_blocked_slots(start, r["duration"]),
            need=needs[r["package"]],
            free={roles: having[roles] & whole for roles in role_sets},
        )
        if _drops([item], "window", role_sets) == 0:
            feasible.append(item)
    drops = 0
    for group in _groups(feasible, "blocked"):
        by_window = sum(_drops(sub, "window", role_sets) for sub in _groups(group, "window"))
        drops += max(by_window, _drops(group, "blocked", role_sets))
    return len(feasible) - drops


def count_violations(roster: list[dict]) -> dict[str, int]:
    from django.db import connection

    from events.models import Assignment
    from webinars.models import Webinar

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM events_assignment a JOIN events_assignment b
               ON a.staff_id = b.staff_id AND a.id < b.id AND a.blocked && b.blocked
               WHERE a.status IN ('tentative', 'confirmed')
                 AND b.status IN ('tentative', 'confirmed')"""
        )
        overlaps = cursor.fetchone()[0]
    members = {m["id"]: m for m in roster}
    outside = 0
    for staff_id, window in Assignment.objects.filter(
        status__in=Assignment.ACTIVE_STATUSES
    ).values_list("staff_id", "window"):
        member = members[staff_id]
        moment = window.lower
        while moment < window.upper:
            if not available(member, moment):
                outside += 1
                break
            moment += SLOT
    missing = 0
    for webinar in Webinar.objects.filter(status="confirmed").select_related("package"):
        team: dict[str, int] = defaultdict(int)
        for role in webinar.assignments.filter(status="confirmed").values_list("role", flat=True):
            team[role] += 1
        if dict(team) != {k: int(v) for k, v in webinar.package.staff_roles.items()}:
            missing += 1
    return {"overlaps": overlaps, "outside_availability": outside, "missing_role": missing}
