"""Finance pages (staff area): revenue figures for a period and export downloads.

Access: the `billing.view_invoice` permission and membership of the "Finance" group
(superusers pass both). Others get 403: this is a staff area, not an organiser's object.
"""

import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from billing import selectors
from billing.exports import EXPORT_FORMATS, export_period
from webinars.formatting import format_money_code, format_percent
from webinars.models import User

FINANCE_GROUP = "Finance"
# Exports up to this size stay in memory; larger ones spill to a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024
FIGURE_LABELS = {
    "invoiced": _("Invoiced (gross)"),
    "credited": _("Credited (gross)"),
    "collected": _("Collected"),
    "refunded": _("Refunded"),
    "recognised": _("Revenue recognised (net)"),
    "deferred": _("Deferred revenue at end (net)"),
}


def is_finance(user: User) -> bool:
    return bool(
        user.is_active
        and user.has_perm("billing.view_invoice")
        and (user.is_superuser or user.groups.filter(name=FINANCE_GROUP).exists())
    )


def finance_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_finance(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapped)


class PeriodForm(forms.Form):
    """A period of UTC days, from the query string ?from=YYYY-MM-DD&to=YYYY-MM-DD."""

    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    # "from" is a Python keyword, so the fields map to the query names here.
    QUERY_NAMES = {"start": "from", "end": "to"}

    def add_prefix(self, field_name: str) -> str:
        return self.QUERY_NAMES.get(field_name, field_name)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data


def this_month(today: date) -> tuple[date, date]:
    start = today.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return start, end


@require_GET
@finance_required
def revenue(request: HttpRequest) -> HttpResponse:
    """Revenue figures per currency for a period (default: this month), with downloads."""
    if "from" in request.GET or "to" in request.GET:
        form = PeriodForm(request.GET)
    else:
        start, end = this_month(timezone.now().date())
        form = PeriodForm({"from": start.isoformat(), "to": end.isoformat()})
    context: dict[str, Any] = {"form": form, "currencies": [], "downloads": []}
    if not form.is_valid():
        return render(request, "billing/revenue.html", context, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    query = urlencode({"from": start.isoformat(), "to": end.isoformat()})
    context |= {
        "start": start,
        "end": end,
        "currencies": [
            {
                "currency": currency,
                "rows": [
                    (FIGURE_LABELS[key], format_money_code(value, currency), key)
                    for key, value in figures.items()
                ],
            }
            for currency, figures in selectors.revenue_for_period(start, end).items()
        ],
        "downloads": [(fmt.label, fmt.key, query) for fmt in EXPORT_FORMATS.values()],
        "delivered": [
            {
                "webinar": row.webinar,
                "revenue": format_money_code(row.revenue_minor, row.webinar.currency),
                "cost": format_money_code(row.cost.minor, row.cost.currency) if row.cost else "",
                "node_hours": row.cost.node_hours if row.cost else None,
                "margin": (
                    format_money_code(row.margin_minor, row.webinar.currency)
                    if row.margin_minor is not None
                    else ""
                ),
                "margin_percent": (
                    format_percent(row.margin_bp) if row.margin_bp is not None else ""
                ),
            }
            for row in selectors.delivered_webinars(start, end)
        ],
    }
    return render(request, "billing/revenue.html", context)


@require_GET
@finance_required
def export_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """Stream one export format for ?from=&to= as a file download."""
    export = EXPORT_FORMATS.get(fmt)
    if export is None:
        raise Http404("Unknown export format.")
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text())
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    # Written to a spooled file first (memory-bounded), then streamed: one code path for
    # all formats, including XLSX whose zip directory is only known at the end.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by FileResponse
    try:
        rows = export_period(fmt, start, end, spool)
    except ValueError as exc:
        spool.close()
        return HttpResponseBadRequest(str(exc))
    spool.seek(0)
    response = FileResponse(
        spool,
        as_attachment=True,
        filename=export.filename(start, end),
        content_type=export.content_type,
    )
    response["X-Export-Rows"] = str(rows)
    return response
