"""The workload report for Event Services leads (admin look, staff only), linked from the
staff members' changelist: hours per person per month of a year."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from events.selectors.workload import workload

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@staff_member_required
@require_GET
def workload_report(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("year", "")
    year = timezone.now().year
    if raw:
        if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
            return render(
                request,
                "events/workload.html",
                {"error": "The year must be a number from 2000 to 2100.", "year": year},
                status=400,
            )
        year = int(raw)
    return render(
        request,
        "events/workload.html",
        {
            "year": year,
            "months": MONTHS,
            "rows": workload(year),
            "title": f"Workload {year}",
        },
    )
