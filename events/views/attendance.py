"""Attendance for the organiser and Event Services: the live dashboard (a panel on the
webinar page, registered in EventsConfig.ready, refreshed by htmx every few seconds while
the doors are open), the chart of concurrent viewers (inline SVG, drawn here), and after the
event the attendance report with its CSV. Every view fetches the webinar through
`get_webinar_for_attendance`: another organisation's webinar is a 404."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from events.selectors import attendance as selectors
from webinars.formatting import format_in_zone
from webinars.models import Webinar

W = Webinar.Status
SHOWN = (W.CONFIRMED, W.LIVE, W.COMPLETED)
EDGE_ROWS = 40  # the dashboard lists the busiest edges; the rest are summed up
REFRESH_S = 5
CHART_W, CHART_H, PAD = 640, 180, 32


def concurrency_svg(series: list[tuple[int, int]] | list[list[int]], zone: str) -> SafeString:
    """Concurrent viewers per minute as an inline SVG line chart (no script, no CDN)."""
    if not series:
        return SafeString('<p class="muted" id="attendance-chart">No viewers yet.</p>')
    times = [int(t) for t, _ in series]
    counts = [int(c) for _, c in series]
    t0, t1 = times[0], max(times[-1], times[0] + 60)
    top = max(max(counts), 1)

    def x(t: int) -> float:
        return PAD + (t - t0) / (t1 - t0) * (CHART_W - 2 * PAD)

    def y(c: int) -> float:
        return CHART_H - PAD - c / top * (CHART_H - 2 * PAD)

    points = " ".join(f"{x(t):.1f},{y(c):.1f}" for t, c in zip(times, counts, strict=True))
    start = datetime.fromtimestamp(t0, tz=UTC)
    end = datetime.fromtimestamp(t1, tz=UTC)
    return format_html(
        '<svg id="attendance-chart" role="img" viewBox="0 0 {w} {h}" width="100%" '
        'aria-label="Concurrent viewers per minute, peak {top}">'
        '<line x1="{p}" y1="{base}" x2="{right}" y2="{base}" stroke="#dfe3ea"/>'
        '<line x1="{p}" y1="{p}" x2="{p}" y2="{base}" stroke="#dfe3ea"/>'
        '<polyline fill="none" stroke="#2448c7" stroke-width="2" points="{points}"/>'
        '<text x="{p}" y="{ty}" font-size="11" fill="#5c677d">{start}</text>'
        '<text x="{right}" y="{ty}" font-size="11" fill="#5c677d" text-anchor="end">{end}</text>'
        '<text x="{tx}" y="{p}" font-size="11" fill="#5c677d" text-anchor="end">{top}</text>'
        '<text x="{tx}" y="{base}" font-size="11" fill="#5c677d" text-anchor="end">0</text>'
        "</svg>",
        w=CHART_W,
        h=CHART_H,
        p=PAD,
        base=CHART_H - PAD,
        right=CHART_W - PAD,
        ty=CHART_H - 10,
        tx=PAD - 4,
        points=points,
        top=f"{top:,}",
        start=format_in_zone(start, zone),
        end=format_in_zone(end, zone),
    )


def _doors_open(webinar: Webinar, now: datetime) -> bool:
    opens = webinar.start_at - timedelta(minutes=settings.ATTENDEE_DOORS_OPEN_MINUTES)
    return opens <= now <= webinar.end_at + timedelta(seconds=settings.ATTENDEE_SEAT_TTL_S)


def attendance_panel(request: HttpRequest, webinar: Webinar) -> str:
    if webinar.status not in SHOWN:
        return ""
    summary = selectors.summary_of(webinar)
    context: dict[str, object] = {"webinar": webinar, "summary": summary}
    if summary is not None:
        context |= {
            "rows": selectors.report_rows(summary),
            "chart": concurrency_svg(summary.series, webinar.time_zone),
        }
    else:
        board = selectors.dashboard(webinar)
        context |= {
            "board": board,
            "edges": board.edges[:EDGE_ROWS],
            "more_edges": max(0, len(board.edges) - EDGE_ROWS),
            "chart": concurrency_svg(board.series, webinar.time_zone),
            "polling": _doors_open(webinar, timezone.now()),
            "refresh_s": REFRESH_S,
        }
    return render_to_string("events/_attendance_panel.html", context, request=request)


@login_required
@require_GET
def attendance_panel_view(request: HttpRequest, code: str) -> HttpResponse:
    webinar = selectors.get_webinar_for_attendance(request.user, code)
    return HttpResponse(attendance_panel(request, webinar))


@login_required
@require_GET
def attendance_page(request: HttpRequest, code: str) -> HttpResponse:
    """The dashboard on a page of its own, for Event Services staff (who do not see the
    organiser's webinar page) and for a second screen during the event."""
    webinar = selectors.get_webinar_for_attendance(request.user, code)
    return render(
        request,
        "events/attendance.html",
        {"webinar": webinar, "panel": SafeString(attendance_panel(request, webinar))},
    )


@login_required
@require_GET
def attendance_csv(request: HttpRequest, code: str) -> HttpResponse:
    """The attendance report as CSV, once the webinar is over and its summary kept."""
    webinar = selectors.get_webinar_for_attendance(request.user, code)
    summary = selectors.summary_of(webinar)
    if summary is None:
        raise Http404("No attendance report yet: it is kept when the webinar completes.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="attendance-{webinar.code}.csv"'
    writer = csv.writer(response)
    writer.writerow(["region", "registered", "attended", "average_minutes_watched"])
    for row in selectors.report_rows(summary):
        writer.writerow([row.region, row.registered, row.attended, row.average_minutes])
    writer.writerow(
        ["total", summary.registered, summary.attended, round(summary.average_minutes, 1)]
    )
    writer.writerow(["peak_concurrent", summary.peak_concurrent, "", ""])
    return response
