"""A staff member's own calendar feed: /events/staff/calendar/<token>.ics, where the
token is the secret stored on their roster entry (no login, so calendar apps can
subscribe). An unknown token is a 404 that says nothing about which tokens exist."""

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from events import calendars
from events.selectors import team as team_selectors


@require_GET
def staff_calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    member = team_selectors.member_by_calendar_token(token)
    if member is None:
        raise Http404("No such calendar.")
    body = calendars.feed_ics(member, team_selectors.calendar_of(member))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
