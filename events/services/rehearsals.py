"""The organiser's rehearsal (tech check) with the technical lead: 30 minutes at one of
the offered times (`events.selectors.team.rehearsal_slots`: the lead on shift, not on
leave, clear of other work, within the 7 days before the event).

A rehearsal is an assignment of kind REHEARSAL, so the exclusion constraint that keeps a
person's assignments apart keeps it apart from the lead's other work too, and the
assigner sees it as busy time. Booking locks the webinar, then the lead's member row, then
re-reads the offered times; the constraint refuses a concurrent overlap anyway.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from events import calendars, mail
from events.errors import StaffingError
from events.models import Assignment, StaffMember, StaffRole
from events.selectors import team as team_selectors
from events.selectors.staffing import REST
from webinars import audit
from webinars.formatting import format_in_zone
from webinars.jobs import enqueue_on_commit
from webinars.models import User, Webinar

_ICS = "text/calendar; method=REQUEST; charset=utf-8"


@transaction.atomic
def book_rehearsal(webinar: Webinar, *, actor: User | None, starts_at: datetime) -> Assignment:
    webinar = Webinar.objects.select_for_update().select_related("package").get(pk=webinar.pk)
    when = format_in_zone(starts_at, webinar.time_zone)
    if webinar.status != Webinar.Status.CONFIRMED:
        raise StaffingError("not_bookable")
    existing = team_selectors.rehearsal_of(webinar)
    if existing is not None:
        raise StaffingError(
            "rehearsal_exists", when=format_in_zone(existing.window.lower, webinar.time_zone)
        )
    lead = team_selectors.technical_lead(webinar)
    if lead is None:
        raise StaffingError("no_lead")
    StaffMember.objects.select_for_update(no_key=True).filter(pk=lead.staff_id).exists()
    if starts_at not in team_selectors.rehearsal_slots(webinar, lead.staff_id):
        raise StaffingError("slot_not_offered", when=when)
    window = team_selectors.rehearsal_window(starts_at)
    try:
        with transaction.atomic():
            rehearsal = Assignment.objects.create(
                webinar=webinar,
                staff_id=lead.staff_id,
                role=StaffRole.TECHNICAL_LEAD,
                kind=Assignment.Kind.REHEARSAL,
                status=Assignment.Status.CONFIRMED,
                window=(window.start, window.end),
                blocked=(window.start, window.end + REST),
                reason="Rehearsal booked by the organiser with the webinar's technical lead.",
            )
    except IntegrityError:
        raise StaffingError("slot_taken", when=when) from None
    audit.record(
        "staffing.rehearsal_booked",
        webinar,
        actor=actor,
        data={"starts_at": starts_at.isoformat(), "staff": lead.staff.display_name},
    )
    enqueue_on_commit("events.tasks.send_rehearsal_invitations_task", assignment_id=rehearsal.pk)
    return rehearsal


def send_rehearsal_invitations(assignment_id: int) -> int:
    """The .ics of the rehearsal to the organiser (the booking's user and billing email)
    and to the lead; idempotent once sent (`invited_at`)."""
    rehearsal = Assignment.objects.select_related(
        "webinar", "webinar__organisation", "webinar__created_by", "staff", "staff__user"
    ).get(pk=assignment_id)
    if rehearsal.invited_at or rehearsal.status not in Assignment.ACTIVE_STATUSES:
        return 0
    webinar = rehearsal.webinar
    organiser = _organiser_email(webinar)
    ics = calendars.invitation_ics(rehearsal, extra=[(organiser, webinar.organisation.legal_name)])
    ctx = {
        "webinar": webinar,
        "lead": rehearsal.staff.display_name,
        "starts": format_in_zone(rehearsal.window.lower, webinar.time_zone),
        "lead_starts": format_in_zone(rehearsal.window.lower, rehearsal.staff.time_zone),
    }
    for to in ([organiser], [rehearsal.staff.user.email]):
        mail.send_templated("rehearsal-booked", to, ctx, attachments=[("rehearsal.ics", ics, _ICS)])
    Assignment.objects.filter(pk=rehearsal.pk).update(invited_at=timezone.now())
    return 2


def _organiser_email(webinar: Webinar) -> str:
    creator = getattr(webinar, "created_by", None)
    return creator.email if creator is not None else webinar.organisation.billing_email
