"""Organiser pages: pricing, organisation, booking with a live quote, dashboard, detail.

Thin adapters: forms validate input, services write, selectors read, domain errors become
messages next to the form (400) or a conflict message (409).
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from webinars import geography, panels, selectors, services
from webinars.errors import BookingError
from webinars.forms import BookingForm, OrganisationForm
from webinars.models import Organisation
from webinars.rules import AUDIENCE_PRESETS, BookingRequest, build_request


def pricing(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "webinars/pricing.html",
        {
            "packages": selectors.active_packages(),
            "presets": AUDIENCE_PRESETS,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def organisation(request: HttpRequest) -> HttpResponse:
    current = selectors.organisation_for_user(request.user)
    form = OrganisationForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        fields = {k: form.cleaned_data[k] for k in form.Meta.fields}
        if current is None:
            services.create_organisation(request.user, actor=request.user, **fields)
            messages.success(request, "Organisation created. You can book a webinar now.")
            return redirect("webinars:book")
        # The bound form already copied the input onto `current`; the service compares
        # against the stored row so its audit entry records what changed.
        stored = Organisation.objects.get(pk=current.pk)
        services.update_organisation(stored, actor=request.user, **fields)
        messages.success(request, "Billing details saved.")
        return redirect("webinars:dashboard")
    return render(
        request,
        "webinars/organisation.html",
        {"form": form, "organisation": current},
        status=400 if form.errors else 200,
    )


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "webinars/dashboard.html",
        {
            "organisation": selectors.organisation_for_user(request.user),
            "dashboard": selectors.dashboard_for_user(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest) -> HttpResponse:
    organisation = selectors.organisation_for_user(request.user)
    if organisation is None:
        messages.info(request, "Add your organisation's billing details first.")
        return redirect("webinars:organisation")
    form = BookingForm(request.POST or None, initial=_initial(request, organisation))
    if request.method == "POST" and form.is_valid():
        if not form.cleaned_data.get("title"):
            form.add_error("title", "Give the webinar a title.")
        else:
            try:
                webinar = services.book_webinar(
                    organisation,
                    actor=request.user,
                    title=form.cleaned_data["title"],
                    **form.booking_kwargs(),
                )
            except BookingError as exc:
                form.add_error(None, exc.message)
                status = exc.http_status
                return render(request, "webinars/book.html", _book_context(form), status=status)
            return redirect("webinars:detail", code=webinar.code)
    return render(
        request, "webinars/book.html", _book_context(form), status=400 if form.errors else 200
    )


def _initial(request: HttpRequest, organisation: Organisation) -> dict[str, str]:
    """Where the form starts: the organisation's main time zone and audience (from its
    country), then whatever the link carried (a package from the pricing page, or every
    field from an alternative start time). Initial values are only shown; the form checks
    them when submitted."""
    initial = {"package": "10k"}
    zone = geography.main_time_zone(organisation.country)
    if zone:
        initial["timezone"] = zone
    initial["audience"] = geography.audience_preset(organisation.country)
    fields = set(BookingForm.base_fields) | {
        name for name in request.GET if name.startswith("share_")
    }
    initial |= {name: value for name, value in request.GET.items() if name in fields}
    return initial


def _book_context(form: BookingForm) -> dict[str, object]:
    return {
        "form": form,
        "quote": None,
        "presets": AUDIENCE_PRESETS,
        "timezones": [value for value, _label in form.fields["timezone"].choices],
    }


@login_required
@require_POST
def quote(request: HttpRequest) -> HttpResponse:
    """The live quote fragment (htmx): price and VAT for the organisation, availability,
    alternatives as links that fill the form, the cancellation policy, the cluster; and,
    out of band, the hold button, disabled with the reason when the time cannot be booked.
    It needs a login, like the form it serves (anonymous quotes are the throttled API's);
    a signed-in user without an organisation is a visitor to VAT: net, "excl. VAT".
    Input that cannot be quoted answers 400 with the reason in the fragment (book.html
    lets htmx show 400 fragments)."""
    form = BookingForm(request.POST)
    context: dict[str, object] = {"form": form}
    status = 400
    if form.is_valid():
        try:
            booking_request = build_request(**form.booking_kwargs())
        except BookingError as exc:
            context["error"] = exc.message
            context["blocked"] = exc.message
            status = exc.http_status
        else:
            quote = selectors.quote_webinar(
                booking_request, organisation=selectors.organisation_for_user(request.user)
            )
            status = 200
            context["quote"] = quote
            context["search_days"] = settings.ALTERNATIVE_SEARCH_DAYS
            context["alternatives"] = [
                _alternative(request, start, booking_request) for start in quote.alternatives
            ]
            if quote.full_regions:
                regions = ", ".join(quote.full_regions)
                context["blocked"] = (
                    f"This time is fully booked in {regions}: pick one of the other start "
                    "times or another date."
                )
            elif quote.refusals:
                reasons = "; ".join(quote.refusals)
                context["blocked"] = (
                    f"{reasons[:1].upper()}{reasons[1:]}: pick one of the other start "
                    "times or another date."
                )
    return render(request, "webinars/_quote.html", context, status=status)


def _alternative(request: HttpRequest, start: datetime, asked: BookingRequest) -> dict[str, object]:
    """An alternative start as the form's local value, how far it is from the time asked
    for, and a link to the form filled with it (the page's script fills the form in place
    instead; the link works without JavaScript)."""
    local = start.astimezone(ZoneInfo(asked.timezone)).strftime("%Y-%m-%dT%H:%M")
    params = request.POST.copy()
    for name in ("csrfmiddlewaretoken", "hold"):
        params.pop(name, None)
    params["start"] = local
    return {
        "start_at": start,
        "local": local,
        "url": f"{reverse('webinars:book')}?{params.urlencode()}",
        "offset": _offset(start - asked.start_at),
    }


def _offset(delta: timedelta) -> str:
    """'2 h 15 min earlier', '1 day 3 h later'."""
    minutes = int(abs(delta.total_seconds()) // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes else []
    return " ".join(parts) + (" earlier" if delta < timedelta(0) else " later")


@login_required
def detail(request: HttpRequest, code: str) -> HttpResponse:
    webinar = selectors.get_webinar_for_user(request.user, code)
    return render(
        request,
        "webinars/detail.html",
        {
            "webinar": webinar,
            "timeline": selectors.timeline(webinar),
            "now": timezone.now(),
            "panels": panels.render_panels(request, webinar),
        },
    )
