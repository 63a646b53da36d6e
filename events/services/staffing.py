"""Event Services staffing: every write on assignments, and the roster's audited edits.

The team is inventory, like the fleet, and takes part in the booking's own transactions
through `webinars.capacity_checks` (registered in `EventsConfig.ready()`):

- `assign_team` runs inside the hold's transaction after the fleet slots are taken and
  places one TENTATIVE assignment per person the package needs, or raises
  `TeamUnavailableError`, which rolls the whole hold back (fleet slots included).
- `confirm_team` makes them CONFIRMED with the booking; `release_team` RELEASES them
  when the hold expires or the booking is cancelled, in the transaction that releases
  the fleet.

Choosing: a candidate has the role, is on shift for the whole window in their own zone,
is not on leave, and has no active assignment within the rest gap. Among candidates the
assigner prefers the organiser's language, then someone who worked with this organiser
before, then the fewest hours assigned in the last 30 days; each assignment's `reason`
says why. Concurrency: the chosen members' rows are locked in id order (so two holds
never wait on each other in a cycle), then the assignments are inserted in a savepoint;
PostgreSQL's exclusion constraint refuses an overlap a concurrent hold committed in the
meantime (IntegrityError), and the assigner then tries the next candidates.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache, lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.languages import get_official_languages
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from events.models import Assignment, StaffMember, StaffRole
from events.selectors.staffing import (
    Candidate,
    Window,
    can_fill,
    event_window,
    load_candidates,
    slots_of,
)
from webinars import audit
from webinars.countries import normalise_country
from webinars.errors import TeamUnavailableError
from webinars.models import User, Webinar

FAIRNESS_DAYS = 30
A = Assignment.Status


@lru_cache(maxsize=512)  # by country code: a pure function of it
def organiser_languages(country: str) -> frozenset[str]:
    """The languages an organisation in `country` most likely works in: the country's
    official (and de facto) languages as ISO 639 codes, from CLDR via Babel."""
    try:
        codes = get_official_languages(normalise_country(country), de_facto=True)
    except (KeyError, ValueError):
        return frozenset()
    return frozenset(code.split("_")[0] for code in codes)


@cache
def _language_name(code: str) -> str:
    try:
        return Locale.parse(code).get_display_name("en") or code
    except (UnknownLocaleError, ValueError):
        return code


@dataclass(frozen=True)
class _Standing:
    """What the preference order looks at for one candidate."""

    speaks: str  # the organiser's language this person speaks, or ""
    worked_before: int  # confirmed assignments on this organiser's webinars
    recent_hours: float  # hours assigned in the last FAIRNESS_DAYS days

    def key(self, candidate: Candidate) -> tuple[int, int, float, str, int]:
        return (
            0 if self.speaks else 1,
            0 if self.worked_before else 1,
            self.recent_hours,
            candidate.name,
            candidate.id,
        )


def _standings(candidates: Sequence[Candidate], languages: frozenset[str]) -> dict[int, _Standing]:
    standings: dict[int, _Standing] = {}
    for c in candidates:
        spoken = sorted(languages & c.languages)
        standings[c.id] = _Standing(
            speaks=spoken[0] if spoken else "",
            worked_before=c.worked_with_organiser,
            recent_hours=round(c.recent_hours, 2),
        )
    return standings


def _reason(
    role: str, standing: _Standing, *, pool: int, languages: frozenset[str], anyone_speaks: bool
) -> str:
    label = StaffRole(role).label.lower() if role in StaffRole.values else role
    wanted = ", ".join(_language_name(code) for code in sorted(languages)) or "unknown"
    if standing.speaks:
        parts = [f"speaks {_language_name(standing.speaks)}, the organiser's language"]
    else:
        parts = [
            f"does not speak the organiser's language ({wanted})"
            + ("" if anyone_speaks else ": nobody free does")
        ]
    parts.append(
        f"worked with this organiser on {standing.worked_before} webinar(s) before"
        if standing.worked_before
        else "has not worked with this organiser before"
    )
    parts.append(f"{standing.recent_hours:g} h assigned in the last {FAIRNESS_DAYS} days")
    return f"Chosen as {label} from {pool} free: " + "; ".join(parts) + "."


def ranked_with_reasons(
    role: str, free: Sequence[Candidate], languages: frozenset[str]
) -> list[tuple[Candidate, str]]:
    """`free` people for one `role` in the assigner's order of preference, each with the
    reason the assigner would give for choosing them (the swap's list of replacements)."""
    pool = [c for c in free if role in c.roles]
    standings = _standings(pool, languages)
    anyone_speaks = any(s.speaks for s in standings.values())
    return [
        (
            c,
            _reason(
                role,
                standings[c.id],
                pool=len(pool),
                languages=languages,
                anyone_speaks=anyone_speaks,
            ),
        )
        for c in sorted(pool, key=lambda c: standings[c.id].key(c))
    ]


def _choose(
    slots: list[str],
    free: list[Candidate],
    standings: dict[int, _Standing],
    languages: frozenset[str],
) -> list[tuple[str, Candidate, str]] | None:
    """One person per slot, the most preferred who still leaves the other slots fillable
    (scarce roles first); None when the slots cannot all be filled."""
    if not can_fill(slots, free):
        return None
    remaining = list(range(len(slots)))
    remaining.sort(key=lambda i: sum(slots[i] in c.roles for c in free))
    available = list(free)
    chosen: list[tuple[str, Candidate, str]] = []
    while remaining:
        i = remaining.pop(0)
        role = slots[i]
        pool = [c for c in available if role in c.roles]
        for candidate in sorted(pool, key=lambda c: standings[c.id].key(c)):
            rest = [c for c in available if c.id != candidate.id]
            if can_fill([slots[j] for j in remaining], rest):
                reason = _reason(
                    role,
                    standings[candidate.id],
                    pool=len(pool),
                    languages=languages,
                    anyone_speaks=any(standings[c.id].speaks for c in pool),
                )
                chosen.append((role, candidate, reason))
                available = rest
                break
        else:  # unreachable while can_fill held above; kept as a guard
            return None
    return chosen


def assign_team(webinar: Webinar) -> dict[str, Any] | None:
    """Place the package's Event Services team on `webinar` as TENTATIVE assignments, in
    the caller's transaction (the hold's), or raise TeamUnavailableError. Returns who was
    placed and why, for the hold's audit row (the team is part of that state change)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("assign_team must run inside the hold's transaction")
    needs = {role: int(n) for role, n in (webinar.package.staff_roles or {}).items()}
    slots = slots_of(needs)
    if not slots:
        return None
    window = event_window(webinar.start_at, webinar.duration_minutes)
    candidates = load_candidates(
        needs,
        (window.start, window.blocked_end),
        hours_since=timezone.now() - timedelta(days=FAIRNESS_DAYS),
        organisation_id=webinar.organisation_id,
    )
    free = [c for c in candidates if c.free_for(window)]
    languages = organiser_languages(webinar.organisation.country)
    standings = _standings(free, languages)
    while True:
        team = _choose(slots, free, standings, languages)
        if team is None:
            raise TeamUnavailableError(package=webinar.package.name)
        placed = _place(webinar, window, team)
        if isinstance(placed, set):
            # A concurrent hold committed an assignment for one of them after we read:
            # drop whoever is now taken and choose again.
            free = [c for c in free if c.id not in placed]
            continue
        return {
            "team": [
                {"role": role, "staff": candidate.name, "reason": reason}
                for role, candidate, reason in team
            ]
        }


# Sent as one round trip (the client-side binding cursor takes several statements): a
# savepoint, the chosen members' row locks in id order, then the insert, which reads the
# assignments afresh after the locks were granted (a statement of its own, so a hold that
# committed while we waited is seen) and writes nothing if any of them is now taken.
# Rolling back to the savepoint then gives the locks back before the next choice, so a
# hold never holds locks out of order. The exclusion constraint stays the last line.
_PLACE_SQL = """
SAVEPOINT staffing_place;
SELECT id FROM events_staffmember WHERE id = ANY(%(ids)s) ORDER BY id FOR NO KEY UPDATE;
INSERT INTO events_assignment
    (code, webinar_id, staff_id, role, status, "window", blocked, reason, created_at,
     updated_at)
SELECT t.code, %(webinar)s, t.staff_id, t.role, 'tentative',
       tstzrange(%(start)s, %(end)s), tstzrange(%(start)s, %(blocked_end)s), t.reason,
       %(now)s, %(now)s
FROM unnest(%(codes)s::uuid[], %(ids_in_order)s::bigint[], %(roles)s::varchar[],
            %(reasons)s::text[]) AS t(code, staff_id, role, reason)
WHERE NOT EXISTS (
    SELECT 1 FROM events_assignment a
    WHERE a.staff_id = ANY(%(ids)s) AND a.status IN ('tentative', 'confirmed')
      AND a.blocked && tstzrange(%(start)s, %(blocked_end)s)
)
RETURNING id
"""

_TAKEN_SQL = """
SELECT DISTINCT staff_id FROM events_assignment
WHERE staff_id = ANY(%(ids)s) AND status IN ('tentative', 'confirmed')
  AND blocked && tstzrange(%(start)s, %(blocked_end)s)
"""


def _place(
    webinar: Webinar, window: Window, team: list[tuple[str, Candidate, str]]
) -> list[int] | set[int]:
    """Insert the team's assignments (see _PLACE_SQL) and return their ids; on a
    conflict, the set of members now taken, with nothing written and their locks given
    back."""
    params = {
        "ids": sorted(c.id for _r, c, _s in team),
        "webinar": webinar.pk,
        "start": window.start,
        "end": window.end,
        "blocked_end": window.blocked_end,
        "now": timezone.now(),
        "codes": [uuid.uuid4() for _ in team],
        "ids_in_order": [c.id for _r, c, _s in team],
        "roles": [role for role, _c, _s in team],
        "reasons": [reason for _r, _c, reason in team],
    }
    with connection.cursor() as cursor:
        try:
            cursor.execute(_PLACE_SQL, params)
            while cursor.nextset():
                pass
            inserted = [row[0] for row in cursor.fetchall()]
        except IntegrityError:
            # The constraint caught what the read missed (a writer outside this lock
            # order): treat it as taken, like the read would have.
            inserted = []
        if len(inserted) == len(team):
            return inserted
        cursor.execute("ROLLBACK TO SAVEPOINT staffing_place")
        cursor.execute(_TAKEN_SQL, params)
        taken = {row[0] for row in cursor.fetchall()}
    if not taken:
        raise RuntimeError("assignments were refused but nobody is taken")
    return taken


def confirm_team(webinar: Webinar) -> dict[str, Any] | None:
    """The booking is confirmed: its tentative assignments become confirmed (recorded in
    the confirmation's audit row)."""
    changed = Assignment.objects.filter(webinar=webinar, status=A.TENTATIVE).update(
        status=A.CONFIRMED, updated_at=timezone.now()
    )
    return {"confirmed": changed} if changed else None


def release_team(webinar: Webinar) -> dict[str, Any] | None:
    """The hold expired or the booking was cancelled: its people are free again (recorded
    in the expiry's or cancellation's audit row)."""
    changed = Assignment.objects.filter(
        webinar=webinar, status__in=Assignment.ACTIVE_STATUSES
    ).update(status=A.RELEASED, updated_at=timezone.now())
    return {"released": changed} if changed else None


def record_roster_change(
    member: StaffMember, *, actor: User | None, action: str, changes: Sequence[str]
) -> None:
    """One audit row for an edit of a member's roster entry (details, shifts, time off),
    written by the admin after it saved the forms."""
    audit.record(f"staff_member.{action}", member, actor=actor, data={"changed": list(changes)})


def assign_role(webinar: Webinar, role: str, *, exclude: Sequence[int] = ()) -> Assignment | None:
    """Fill one open `role` on `webinar` with the most preferred free person (the same
    rules, preference order and placing as `assign_team`), leaving out the members in
    `exclude` (who declined it); None when nobody is free. The new assignment is
    CONFIRMED when the booking is, else TENTATIVE. In the caller's transaction; the
    caller's audit row records who was placed (the assignment's `reason` says why)."""
    window = event_window(webinar.start_at, webinar.duration_minutes)
    left_out = set(exclude)
    candidates = load_candidates(
        [role],
        (window.start, window.blocked_end),
        hours_since=timezone.now() - timedelta(days=FAIRNESS_DAYS),
        organisation_id=webinar.organisation_id,
    )
    free = [c for c in candidates if c.free_for(window) and c.id not in left_out]
    languages = organiser_languages(webinar.organisation.country)
    standings = _standings(free, languages)
    while True:
        chosen = _choose([role], free, standings, languages)
        if chosen is None:
            return None
        placed = _place(webinar, window, chosen)
        if isinstance(placed, set):
            free = [c for c in free if c.id not in placed]
            continue
        assignment = Assignment.objects.select_related("staff").get(pk=placed[0])
        if webinar.status in (Webinar.Status.CONFIRMED, Webinar.Status.LIVE):
            assignment.status = A.CONFIRMED
            assignment.save(update_fields=["status", "updated_at"])
        return assignment
