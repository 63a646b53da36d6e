"""Invitations of Event Services staff: every person put on a confirmed webinar gets an
email with an iCalendar invitation and a signed link to accept or decline; a decline is
filled again by the assigner (`staffing.assign_role`), and when nobody is free the
booking is flagged, the leads are emailed, and `fill_open_roles` (beat, and queued when
availability changes) tries again. A cancelled booking's people get a cancellation.

Lock order everywhere: the webinar row, then assignments, then members (the assigner's
own order), so a decline and the retry never fill one role twice.
"""

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from events import calendars, mail, tokens
from events.errors import StaffingError
from events.models import Assignment
from events.selectors import team as team_selectors
from events.services import staffing
from webinars import audit
from webinars import services as webinar_services
from webinars.formatting import format_in_zone
from webinars.jobs import enqueue_on_commit
from webinars.models import User, Webinar

# The start of the flag reason this module sets; the retry clears only its own flags.
OPEN_ROLE_FLAG = "Event Services team incomplete"
A = Assignment.Status


def answer_url(assignment: Assignment, answer: str = "") -> str:
    url = settings.SITE_URL + reverse(
        "events:invitation", args=[tokens.invitation_token(str(assignment.code))]
    )
    return f"{url}?answer={answer}" if answer else url


def _work_ctx(assignment: Assignment) -> dict[str, object]:
    webinar = assignment.webinar
    member = assignment.staff
    return {
        "assignment": assignment,
        "webinar": webinar,
        "member": member,
        "role": assignment.get_role_display(),
        "starts": format_in_zone(assignment.window.lower, member.time_zone),
        "ends": format_in_zone(assignment.window.upper, member.time_zone),
        "event_starts": format_in_zone(webinar.start_at, member.time_zone),
    }


def send_invitation(assignment: Assignment) -> None:
    """Email one invitation (with the .ics) and note when it went out."""
    ctx = _work_ctx(assignment) | {
        "accept_url": answer_url(assignment, "accept"),
        "decline_url": answer_url(assignment, "decline"),
    }
    mail.send_templated(
        "staff-invitation",
        [assignment.staff.user.email],
        ctx,
        attachments=[("invite.ics", calendars.invitation_ics(assignment), _ICS_REQUEST)],
    )
    Assignment.objects.filter(pk=assignment.pk).update(invited_at=timezone.now())


_ICS_REQUEST = "text/calendar; method=REQUEST; charset=utf-8"
_ICS_CANCEL = "text/calendar; method=CANCEL; charset=utf-8"


def send_invitations(webinar_id: int) -> int:
    """Invite every active member of the webinar's team not invited yet (idempotent: a
    redelivered task sends nothing twice once `invited_at` is set)."""
    sent = 0
    for assignment in team_selectors.uninvited(webinar_id):
        send_invitation(assignment)
        sent += 1
    return sent


def _locked_assignment(assignment: Assignment) -> tuple[Webinar, Assignment]:
    webinar = Webinar.objects.select_for_update().get(pk=assignment.webinar_id)
    locked = (
        Assignment.objects.select_for_update()
        .select_related("staff", "webinar")
        .get(pk=assignment.pk)
    )
    if locked.status not in Assignment.ACTIVE_STATUSES:
        raise StaffingError("not_open", status=locked.get_status_display().lower())
    return webinar, locked


@transaction.atomic
def accept_assignment(assignment: Assignment, *, actor: User | None = None) -> Assignment:
    """The person confirms they will work it. Accepting twice changes nothing."""
    _webinar, assignment = _locked_assignment(assignment)
    if assignment.accepted_at:
        return assignment
    assignment.accepted_at = timezone.now()
    assignment.save(update_fields=["accepted_at", "updated_at"])
    audit.record(
        "staffing.assignment_accepted",
        assignment.webinar,
        actor=actor,
        data={"role": assignment.role, "staff": assignment.staff.display_name},
    )
    return assignment


@transaction.atomic
def decline_assignment(assignment: Assignment, *, actor: User | None = None) -> Assignment | None:
    """The person cannot work it: their time is released and the role filled by the
    next free person (returned, and invited after commit); None when nobody is free, in
    which case the booking is flagged, the leads emailed, and the retry will fill it."""
    webinar, assignment = _locked_assignment(assignment)
    assignment.status = A.DECLINED
    assignment.save(update_fields=["status", "updated_at"])
    replacement = staffing.assign_role(
        webinar, assignment.role, exclude=team_selectors.decliners(webinar)
    )
    # One row for the decline and what it led to: the next person, or nobody free.
    audit.record(
        "staffing.assignment_declined",
        webinar,
        actor=actor,
        data={
            "role": assignment.role,
            "staff": assignment.staff.display_name,
            "replacement": _placed(replacement) if replacement else None,
        },
    )
    # The decliner is free again for other webinars that miss someone.
    enqueue_on_commit("events.tasks.fill_open_roles_task")
    if replacement is not None:
        enqueue_on_commit("events.tasks.send_staff_invitations_task", webinar_id=webinar.pk)
        return replacement
    _flag_open_role(webinar, assignment.role, actor=actor)
    return None


def _placed(assignment: Assignment) -> dict[str, str]:
    return {"staff": assignment.staff.display_name, "reason": assignment.reason}


def _flag_open_role(webinar: Webinar, role: str, *, actor: User | None) -> None:
    reason = f"{OPEN_ROLE_FLAG}: no free {role.replace('_', ' ')}"
    webinar_services.flag_webinar(webinar, actor=actor, reason=reason)
    webinar_id = webinar.pk
    transaction.on_commit(lambda: _email_leads(webinar_id, role))


def _email_leads(webinar_id: int, role: str) -> None:
    webinar = Webinar.objects.select_related("organisation").get(pk=webinar_id)
    mail.send_templated(
        "staff-unfilled",
        [settings.EVENT_SERVICES_EMAIL],
        {
            "webinar": webinar,
            "role": role.replace("_", " "),
            "starts": format_in_zone(webinar.start_at, "UTC"),
            "admin_url": settings.SITE_URL
            + reverse("admin:webinars_webinar_change", args=[webinar.pk]),
        },
    )


def fill_open_roles(webinar_id: int, *, actor: User | None = None) -> int:
    """Try to fill the open roles of one webinar (after declines); returns how many were
    filled. When none are left open, this module's flag is cleared."""
    with transaction.atomic():
        webinar = Webinar.objects.select_for_update().select_related("package").get(pk=webinar_id)
        if webinar.status != Webinar.Status.CONFIRMED or webinar.start_at <= timezone.now():
            return 0
        filled = 0
        for role in team_selectors.open_roles(webinar):
            placed = staffing.assign_role(webinar, role, exclude=team_selectors.decliners(webinar))
            if placed is not None:
                audit.record(
                    "staffing.role_filled",
                    webinar,
                    actor=actor,
                    data={"role": role} | _placed(placed),
                )
                filled += 1
        if filled:
            enqueue_on_commit("events.tasks.send_staff_invitations_task", webinar_id=webinar_id)
        if (
            not team_selectors.open_roles(webinar)
            and webinar.needs_attention
            and webinar.attention_reason.startswith(OPEN_ROLE_FLAG)
        ):
            webinar_services.clear_flag(webinar, actor=actor, note="team complete again")
        return filled


def fill_all_open_roles() -> int:
    """The retry over every upcoming confirmed webinar missing someone; each webinar in
    its own transaction."""
    return sum(fill_open_roles(pk) for pk in team_selectors.webinars_with_open_roles())


def notify_team_cancelled(webinar_id: int) -> int:
    """Tell everyone invited to the cancelled webinar (and its rehearsal) that the work is
    off: an email with a METHOD:CANCEL .ics of the same UID, which removes it from their
    calendar."""
    told = 0
    for assignment in team_selectors.released_invited(webinar_id):
        mail.send_templated(
            "staff-cancellation",
            [assignment.staff.user.email],
            _work_ctx(assignment),
            attachments=[("cancel.ics", calendars.cancellation_ics(assignment), _ICS_CANCEL)],
        )
        # Off their calendar now: a redelivered task does not tell them twice.
        Assignment.objects.filter(pk=assignment.pk).update(invited_at=None)
        told += 1
    return told
