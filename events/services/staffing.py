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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from babel import Locale, UnknownLocaleError
from babel.languages import get_official_languages
from django.db import IntegrityError, transaction
from django.db.models import Count, DateTimeField, DurationField, F, Func, Q, Sum
from django.db.models.expressions import ExpressionWrapper
from django.utils import timezone

from events.models import Assignment, StaffMember, StaffRole
from events.selectors.staffing import (
    Candidate,
    Window,
    can_fill,
    event_window,
    load_candidates,
    overlapping_members,
    slots_of,
)
from webinars import audit
from webinars.countries import normalise_country
from webinars.errors import TeamUnavailableError
from webinars.models import User, Webinar

FAIRNESS_DAYS = 30
A = Assignment.Status


def organiser_languages(country: str) -> frozenset[str]:
    """The languages an organisation in `country` most likely works in: the country's
    official (and de facto) languages as ISO 639 codes, from CLDR via Babel."""
    try:
        codes = get_official_languages(normalise_country(country), de_facto=True)
    except (KeyError, ValueError):
        return frozenset()
    return frozenset(code.split("_")[0] for code in codes)


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


def _standings(
    candidates: Sequence[Candidate], *, organisation_id: int, languages: frozenset[str]
) -> dict[int, _Standing]:
    since = timezone.now() - timedelta(days=FAIRNESS_DAYS)
    length = ExpressionWrapper(
        Func(F("window"), function="upper", output_field=DateTimeField())
        - Func(F("window"), function="lower", output_field=DateTimeField()),
        output_field=DurationField(),
    )
    rows = (
        Assignment.objects.filter(staff_id__in=[c.id for c in candidates])
        .values("staff_id")
        .annotate(
            recent=Sum(
                length, filter=Q(status__in=Assignment.ACTIVE_STATUSES, created_at__gte=since)
            ),
            worked=Count(
                "id", filter=Q(status=A.CONFIRMED, webinar__organisation_id=organisation_id)
            ),
        )
    )
    stats = {row["staff_id"]: row for row in rows}
    standings: dict[int, _Standing] = {}
    for c in candidates:
        row = stats.get(c.id, {})
        recent = row.get("recent") or timedelta(0)
        spoken = sorted(languages & c.languages)
        standings[c.id] = _Standing(
            speaks=spoken[0] if spoken else "",
            worked_before=row.get("worked") or 0,
            recent_hours=recent.total_seconds() / 3600,
        )
    return standings


def _reason(role: str, standing: _Standing, *, pool: int, languages: frozenset[str]) -> str:
    label = StaffRole(role).label.lower() if role in StaffRole.values else role
    wanted = ", ".join(_language_name(code) for code in sorted(languages)) or "unknown"
    parts = [
        f"speaks {_language_name(standing.speaks)}, the organiser's language"
        if standing.speaks
        else f"does not speak the organiser's language ({wanted}): nobody free does"
    ]
    parts.append(
        f"worked with this organiser on {standing.worked_before} webinar(s) before"
        if standing.worked_before
        else "has not worked with this organiser before"
    )
    parts.append(f"{standing.recent_hours:g} h assigned in the last {FAIRNESS_DAYS} days")
    return f"Chosen as {label} from {pool} free: " + "; ".join(parts) + "."


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
                reason = _reason(role, standings[candidate.id], pool=len(pool), languages=languages)
                chosen.append((role, candidate, reason))
                available = rest
                break
        else:  # unreachable while can_fill held above; kept as a guard
            return None
    return chosen


def assign_team(webinar: Webinar, *, actor: User | None = None) -> list[Assignment]:
    """Place the package's Event Services team on `webinar` as TENTATIVE assignments, in
    the caller's transaction (the hold's), or raise TeamUnavailableError."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("assign_team must run inside the hold's transaction")
    needs = {role: int(n) for role, n in (webinar.package.staff_roles or {}).items()}
    slots = slots_of(needs)
    if not slots:
        return []
    window = event_window(webinar.start_at, webinar.duration_minutes)
    candidates = load_candidates(needs, (window.start, window.blocked_end))
    free = [c for c in candidates if c.free_for(window)]
    languages = organiser_languages(webinar.organisation.country)
    standings = _standings(free, organisation_id=webinar.organisation_id, languages=languages)
    while True:
        team = _choose(slots, free, standings, languages)
        if team is None:
            raise TeamUnavailableError(package=webinar.package.name)
        try:
            assignments = _place(webinar, window, team)
        except IntegrityError:
            # A concurrent hold committed an assignment for one of them after we read:
            # drop whoever is now taken and choose again.
            taken = overlapping_members([c.id for _r, c, _s in team], window)
            if not taken:
                raise
            free = [c for c in free if c.id not in taken]
            continue
        audit.record(
            "staffing.team_placed",
            webinar,
            actor=actor,
            data={
                "team": [
                    {"role": a.role, "staff": candidate.name, "reason": a.reason}
                    for a, (_r, candidate, _s) in zip(assignments, team, strict=True)
                ]
            },
        )
        return assignments


def _place(
    webinar: Webinar, window: Window, team: list[tuple[str, Candidate, str]]
) -> list[Assignment]:
    """Lock the chosen members in id order, then insert, all in one savepoint: rolling it
    back after an exclusion violation also gives the row locks back."""
    ids = sorted(c.id for _r, c, _s in team)
    with transaction.atomic():
        list(
            StaffMember.objects.select_for_update(no_key=True)
            .filter(id__in=ids)
            .order_by("id")
            .values_list("id", flat=True)
        )
        return Assignment.objects.bulk_create(
            Assignment(
                webinar=webinar,
                staff_id=candidate.id,
                role=role,
                status=A.TENTATIVE,
                window=(window.start, window.end),
                blocked=(window.start, window.blocked_end),
                reason=reason,
            )
            for role, candidate, reason in team
        )


def confirm_team(webinar: Webinar, *, actor: User | None = None) -> int:
    """The booking is confirmed: its tentative assignments become confirmed."""
    changed = Assignment.objects.filter(webinar=webinar, status=A.TENTATIVE).update(
        status=A.CONFIRMED, updated_at=timezone.now()
    )
    if changed:
        audit.record("staffing.team_confirmed", webinar, actor=actor, data={"people": changed})
    return changed


def release_team(webinar: Webinar, *, actor: User | None = None) -> int:
    """The hold expired or the booking was cancelled: its people are free again."""
    changed = Assignment.objects.filter(
        webinar=webinar, status__in=Assignment.ACTIVE_STATUSES
    ).update(status=A.RELEASED, updated_at=timezone.now())
    if changed:
        audit.record(
            "staffing.team_released",
            webinar,
            actor=actor,
            data={"people": changed, "booking": webinar.status},
        )
    return changed


def record_roster_change(
    member: StaffMember, *, actor: User | None, action: str, changes: Sequence[str]
) -> None:
    """One audit row for an edit of a member's roster entry (details, shifts, time off),
    written by the admin after it saved the forms."""
    audit.record(f"staff_member.{action}", member, actor=actor, data={"changed": list(changes)})


def assign_role(
    webinar: Webinar, role: str, *, actor: User | None = None, exclude: Sequence[int] = ()
) -> Assignment | None:
    """Fill one open `role` on `webinar` with the most preferred free person (the same
    rules and preference order as `assign_team`), leaving out the members in `exclude`
    (who declined it); None when nobody is free. The new assignment is CONFIRMED when the
    booking is, else TENTATIVE. Runs in its own savepoint, the caller's transaction."""
    window = event_window(webinar.start_at, webinar.duration_minutes)
    with transaction.atomic():
        free = [
            c
            for c in load_candidates([role], (window.start, window.blocked_end))
            if c.free_for(window) and c.id not in set(exclude)
        ]
        languages = organiser_languages(webinar.organisation.country)
        standings = _standings(free, organisation_id=webinar.organisation_id, languages=languages)
        while True:
            chosen = _choose([role], free, standings, languages)
            if chosen is None:
                return None
            try:
                (assignment,) = _place(webinar, window, chosen)
            except IntegrityError:
                taken = overlapping_members([c.id for _r, c, _s in chosen], window)
                if not taken:
                    raise
                free = [c for c in free if c.id not in taken]
                continue
            if webinar.status in (Webinar.Status.CONFIRMED, Webinar.Status.LIVE):
                Assignment.objects.filter(pk=assignment.pk).update(status=A.CONFIRMED)
                assignment.status = A.CONFIRMED
            audit.record(
                "staffing.role_filled",
                webinar,
                actor=actor,
                data={"role": role, "staff": chosen[0][1].name, "reason": assignment.reason},
            )
            return assignment
