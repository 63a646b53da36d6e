"""Swapping the person on one assignment (the admin's "Swap person"): a lead picks a
replacement among the people who pass the assigner's own rules for that window (the
role, on shift for the whole window in their own zone, not on leave, no active work
within the rest gap), and the old person is released.

Lock order is the invitations' (the webinar row, then the assignment, then the member),
so a swap never waits in a cycle with a decline or the retry. The rules are checked
again under the locks, and the exclusion constraint refuses an overlap that a writer
outside this order committed anyway: nothing changes then.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from events.errors import StaffingError
from events.models import Assignment, StaffMember, StaffRole
from events.selectors.staffing import Candidate, Window, load_candidates
from events.services.staffing import FAIRNESS_DAYS, organiser_languages, ranked_with_reasons
from webinars import audit
from webinars.jobs import enqueue_on_commit
from webinars.models import User, Webinar


@dataclass(frozen=True)
class SwapOption:
    """One eligible replacement and the reason text the assigner would give for them."""

    member_id: int
    name: str
    reason: str


def _window(assignment: Assignment) -> Window:
    # The assignment's own window (an event's with prep and wrap-up, or a rehearsal's).
    return Window(start=assignment.window.lower, end=assignment.window.upper)


def _pool(assignment: Assignment) -> list[Candidate]:
    window = _window(assignment)
    return load_candidates(
        [assignment.role],
        (window.start, window.blocked_end),
        hours_since=timezone.now() - timedelta(days=FAIRNESS_DAYS),
        organisation_id=assignment.webinar.organisation_id,
    )


def swap_options(assignment: Assignment) -> list[SwapOption]:
    """Who could take `assignment` instead of its person (an unlocked read; the swap
    checks again under lock), most preferred first, each with the assigner's reason."""
    window = _window(assignment)
    free = [c for c in _pool(assignment) if c.id != assignment.staff_id and c.free_for(window)]
    languages = organiser_languages(assignment.webinar.organisation.country)
    return [
        SwapOption(member_id=c.id, name=c.name, reason=reason)
        for c, reason in ranked_with_reasons(assignment.role, free, languages)
    ]


def _why_not(assignment: Assignment, member: StaffMember, pool: list[Candidate]) -> str | None:
    """Why `member` cannot take `assignment` under the assigner's rules; None if they can."""
    if member.pk == assignment.staff_id:
        return "they already have it"
    label = StaffRole(assignment.role).label.lower()
    if not member.is_active:
        return "they are not active on the roster"
    if assignment.role not in member.roles:
        return f"they are not a {label}"
    candidate = next((c for c in pool if c.id == member.pk), None)
    window = _window(assignment)
    if candidate is None or not candidate.on_shift(window):
        return "they are not on shift for the whole window"
    if candidate.on_leave(window):
        return "they are on leave then"
    if candidate.busy_in(window):
        return "they have other work within the rest gap"
    return None


@transaction.atomic
def swap_assignment(
    assignment: Assignment, new_member: StaffMember, *, actor: User | None
) -> Assignment:
    """Put `new_member` on `assignment`'s work instead of its person: the old assignment
    is RELEASED and a new one (same webinar, role, kind, status and window) placed, with
    one audit row. If the old person had been invited, the new one is invited after
    commit. Raises StaffingError when the assignment is no longer active or the new
    person does not pass the rules (checked under lock); nothing changes then."""
    Webinar.objects.select_for_update().filter(pk=assignment.webinar_id).exists()
    old = (
        Assignment.objects.select_for_update()
        .select_related("staff", "webinar", "webinar__organisation")
        .get(pk=assignment.pk)
    )
    if old.status not in Assignment.ACTIVE_STATUSES:
        raise StaffingError("not_open", status=old.get_status_display().lower())
    member = StaffMember.objects.select_for_update(no_key=True).get(pk=new_member.pk)
    # A fresh read after the member's lock: work committed while we waited is seen.
    pool = _pool(old)
    why = _why_not(old, member, pool)
    if why is not None:
        raise StaffingError("swap_not_eligible", name=member.display_name, why=why)
    window = _window(old)
    free = [c for c in pool if c.id != old.staff_id and c.free_for(window)]
    languages = organiser_languages(old.webinar.organisation.country)
    reason = next(r for c, r in ranked_with_reasons(old.role, free, languages) if c.id == member.pk)
    status = old.status
    old.status = Assignment.Status.RELEASED
    old.save(update_fields=["status", "updated_at"])
    try:
        with transaction.atomic():
            new = Assignment.objects.create(
                webinar=old.webinar,
                staff=member,
                role=old.role,
                kind=old.kind,
                status=status,
                window=(old.window.lower, old.window.upper),
                blocked=(old.blocked.lower, old.blocked.upper),
                reason=f"Swapped in for {old.staff.display_name}. {reason}",
            )
    except IntegrityError:
        raise StaffingError("swap_taken", name=member.display_name) from None
    audit.record(
        "staffing.assignment_swapped",
        old.webinar,
        actor=actor,
        data={
            "role": old.role,
            "kind": old.kind,
            "from": old.staff.display_name,
            "to": member.display_name,
            "reason": new.reason,
        },
    )
    if old.invited_at and old.kind == Assignment.Kind.EVENT:
        enqueue_on_commit("events.tasks.send_staff_invitations_task", webinar_id=old.webinar_id)
    return new
