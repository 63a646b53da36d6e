"""The operations overview of Event Services, for staff only: a section of the admin's
start page (registered in EventsConfig.ready through `webinars.admin_overview`) and the same
table on a page of its own, linked from that section."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from events.selectors.operations import DAYS_AHEAD, operations_overview


def operations_section(request: HttpRequest) -> str:
    if not (request.user.is_active and request.user.is_staff):
        return ""
    return render_to_string(
        "events/_operations.html",
        {"items": operations_overview(), "days": DAYS_AHEAD, "on_index": True},
        request=request,
    )


@staff_member_required
@require_GET
def operations_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "events/operations.html",
        {
            "items": operations_overview(),
            "days": DAYS_AHEAD,
            "title": "Event Services operations",
        },
    )
