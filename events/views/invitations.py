"""Staff answering an invitation by the signed link in their email (no login): GET shows
what the link is for and a button, POST acts, so a mail scanner that fetches the link
answers nothing. A forged, altered or expired link, or one for work that no longer
exists, is a 404 page; work that is no longer open is a 409 page; nothing changes."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from events import tokens
from events.errors import StaffingError
from events.models import Assignment
from events.selectors import team as team_selectors
from events.services import invitations

ANSWERS = ("accept", "decline")


def _assignment(token: str) -> Assignment | None:
    code = tokens.read_invitation_token(token, max_age_days=settings.STAFF_INVITATION_LINK_DAYS)
    return team_selectors.assignment_by_code(code) if code else None


@require_http_methods(["GET", "POST"])
def answer_invitation(request: HttpRequest, token: str) -> HttpResponse:
    assignment = _assignment(token)
    if assignment is None:
        # The same page for forged, altered, expired and unknown links: it tells nothing
        # about which assignments exist.
        return render(request, "events/invitation_invalid.html", status=404)
    ctx: dict[str, object] = {"assignment": assignment, "webinar": assignment.webinar}
    if request.method == "GET":
        answer = request.GET.get("answer", "")
        ctx["answer"] = answer if answer in ANSWERS else ""
        return render(request, "events/invitation.html", ctx)
    answer = request.POST.get("answer", "")
    if answer not in ANSWERS:
        ctx["error"] = "Choose accept or decline."
        return render(request, "events/invitation.html", ctx, status=400)
    try:
        if answer == "accept":
            invitations.accept_assignment(assignment)
        else:
            invitations.decline_assignment(assignment)
    except StaffingError as error:
        ctx["error"] = error.message
        return render(request, "events/invitation.html", ctx, status=error.http_status)
    ctx["done"] = answer
    return render(request, "events/invitation.html", ctx)
