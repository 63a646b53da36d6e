"""The organiser's side of registration: the "Registration" panel of the webinar page
(registered in EventsConfig.ready: open/close, counts, invitee upload, links), the
registrant list (search by email, delete with a confirmation step), and the result page of
an invitee import, which polls while a worker imports. Every page fetches the webinar
through the permission-checking selector: another organisation's is a 404. Registrants are
addressed by email in POST bodies, never by a number in a URL."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from events.errors import AttendeeError
from events.forms import DeleteRegistrantForm, InviteeImportForm
from events.selectors import attendees as selectors
from events.services import invitees
from events.services import registration as services
from webinars.models import Webinar
from webinars.selectors import get_webinar_for_user


def registration_panel(
    request: HttpRequest, webinar: Webinar, form: InviteeImportForm | None = None
) -> str:
    registration = selectors.registration_of(webinar)
    if registration is None and webinar.status not in services.OPEN_STATUSES:
        return ""
    return render_to_string(
        "events/_registration_panel.html",
        {
            "webinar": webinar,
            "registration": registration,
            "accepting": services.accepts_registrations(webinar, registration),
            "can_open": webinar.status in services.OPEN_STATUSES,
            "counts": selectors.registration_counts(webinar),
            "imports": selectors.recent_imports(webinar),
            "form": form or InviteeImportForm(),
            "public_url": settings.SITE_URL + f"/r/{webinar.code}/",
        },
        request=request,
    )


def _back(webinar: Webinar) -> HttpResponse:
    return redirect("webinars:detail", code=webinar.code)


@login_required
@require_POST
def open_registration(request: HttpRequest, code: str) -> HttpResponse:
    webinar = get_webinar_for_user(request.user, code)
    try:
        services.open_registration(webinar, actor=request.user)
    except AttendeeError as error:
        messages.error(request, error.message)
    return _back(webinar)


@login_required
@require_POST
def close_registration(request: HttpRequest, code: str) -> HttpResponse:
    webinar = get_webinar_for_user(request.user, code)
    services.close_registration(webinar, actor=request.user)
    return _back(webinar)


@login_required
@require_POST
def send_links(request: HttpRequest, code: str) -> HttpResponse:
    webinar = get_webinar_for_user(request.user, code)
    queued = services.send_pending_links(webinar, actor=request.user)
    messages.info(request, f"{queued} join link(s) queued.")
    return _back(webinar)


@login_required
@require_POST
def import_invitees(request: HttpRequest, code: str) -> HttpResponse:
    webinar = get_webinar_for_user(request.user, code)
    form = InviteeImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(
            request,
            "events/import_form.html",
            {"webinar": webinar, "panel": registration_panel(request, webinar, form)},
            status=400,
        )
    upload = form.cleaned_data["file"]
    try:
        job = invitees.start_import(
            webinar,
            actor=request.user,
            upload=upload,
            filename=upload.name,
            send_links=form.cleaned_data["send_links"],
        )
    except AttendeeError as error:
        form.add_error(None, error.message)
        return render(
            request,
            "events/import_form.html",
            {"webinar": webinar, "panel": registration_panel(request, webinar, form)},
            status=error.http_status,
        )
    return redirect("events:import", import_code=job.code)


@login_required
@require_GET
def import_result(request: HttpRequest, import_code: str) -> HttpResponse:
    job = selectors.get_import_for_user(request.user, import_code)
    context = {"job": job, "webinar": job.webinar}
    if request.headers.get("HX-Request"):
        return render(request, "events/_import_result.html", context)
    return render(request, "events/import_result.html", context)


@login_required
@require_GET
def registrant_list(request: HttpRequest, code: str) -> HttpResponse:
    webinar = get_webinar_for_user(request.user, code)
    search = request.GET.get("q", "")[:254]
    paginator = Paginator(
        selectors.registrants_of(webinar, search=search), settings.ATTENDEE_REGISTRANTS_PER_PAGE
    )
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "events/registrants.html",
        {
            "webinar": webinar,
            "page": page,
            "search": search,
            "counts": selectors.registration_counts(webinar),
        },
    )


@login_required
@require_http_methods(["POST"])
def delete_registrant(request: HttpRequest, code: str) -> HttpResponse:
    """First POST (from the list): the confirmation page. Second POST (confirm=on): the
    registrant is deleted and their link revoked."""
    form = DeleteRegistrantForm(request.POST)
    if not form.is_valid():
        get_webinar_for_user(request.user, code)  # 404 first for another's webinar
        return HttpResponse("Give the registrant's email.", status=400)
    registrant = selectors.get_registrant_for_user(request.user, code, form.cleaned_data["email"])
    if not form.cleaned_data["confirm"]:
        return render(request, "events/registrant_delete.html", {"registrant": registrant})
    services.delete_registrant(registrant, actor=request.user)
    messages.info(request, f"{registrant.email} deleted; their join link no longer admits.")
    return redirect("events:registrants", code=code)
