"""The organiser's "Event Services team" panel on the webinar page (registered in
EventsConfig.ready): who works the event, in which role, whether they accepted; and the
rehearsal with the technical lead, booked at one of the offered times."""

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from events.errors import StaffingError
from events.models import Assignment
from events.selectors import team as team_selectors
from events.services import rehearsals
from webinars.models import Webinar
from webinars.selectors import get_webinar_for_user

SHOWN_STATUSES = (Webinar.Status.CONFIRMED, Webinar.Status.LIVE, Webinar.Status.COMPLETED)


def initials(name: str) -> str:
    parts = [p for p in name.split() if p[:1].isalpha()]
    return "".join(p[0] for p in (parts[:1] + parts[1:][-1:])).upper() or "?"


def _member_row(a: Assignment) -> dict[str, object]:
    return {
        "name": a.staff.display_name,
        "initials": initials(a.staff.display_name),
        "role": a.get_role_display(),
        "accepted": a.accepted_at is not None,
    }


def team_panel(request: HttpRequest, webinar: Webinar) -> str:
    if webinar.status not in SHOWN_STATUSES:
        return ""
    members = [_member_row(a) for a in team_selectors.active_team(webinar)]
    rehearsal = team_selectors.rehearsal_of(webinar)
    lead = team_selectors.technical_lead(webinar)
    slots: list[datetime] = []
    if rehearsal is None and lead is not None and webinar.status == Webinar.Status.CONFIRMED:
        slots = team_selectors.rehearsal_slots(webinar, lead.staff_id)
    return render_to_string(
        "events/_team_panel.html",
        {
            "webinar": webinar,
            "members": members,
            "open_roles": team_selectors.open_roles(webinar),
            "rehearsal": rehearsal,
            "lead": lead,
            "slots": slots,
        },
        request=request,
    )


def _refused(request: HttpRequest, webinar: Webinar, message: str, status: int) -> HttpResponse:
    return render(
        request,
        "events/rehearsal_refused.html",
        {"webinar": webinar, "error": message},
        status=status,
    )


@login_required
@require_POST
def book_rehearsal_view(request: HttpRequest, code: str) -> HttpResponse:
    webinar = get_webinar_for_user(request.user, code)
    try:
        starts_at = datetime.fromisoformat(request.POST.get("starts_at", ""))
        if starts_at.tzinfo is None:
            raise ValueError("naive")
    except ValueError:
        return _refused(request, webinar, "Choose one of the offered times.", 400)
    try:
        rehearsals.book_rehearsal(webinar, actor=request.user, starts_at=starts_at)
    except StaffingError as error:
        return _refused(request, webinar, error.message, error.http_status)
    return redirect("webinars:detail", code=webinar.code)
