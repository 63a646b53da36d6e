"""The public registration pages (no login): register for a webinar at /r/<code>/ and ask
for the personal link again at /r/<code>/resend/. Every POST draws from a token bucket per
client address in Redis (ATTENDEE_POSTS_PER_IP_PER_MINUTE, shared by every web process);
an empty bucket answers 429. Neither page reveals whether an address is registered: both
answer with the same "check your inbox" page."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from events.errors import AttendeeError
from events.forms import RegistrationForm, ResendForm
from events.ratelimit import TokenBucket
from events.selectors.attendees import public_webinar, registration_of
from events.services import registration as services
from webinars.lockout import client_ip
from webinars.models import Webinar

# Which form field a registration rule's message belongs next to.
FIELD_OF = {
    "invalid_email": "email",
    "invalid_name": "name",
    "invalid_country": "country",
    "consent_required": "consent",
}


def rate_limited(request: HttpRequest) -> float:
    """Seconds to wait when this client address has posted too often, else 0."""
    per_minute = max(int(settings.ATTENDEE_POSTS_PER_IP_PER_MINUTE), 1)
    bucket = TokenBucket(
        f"attendee-post:{client_ip(request) or 'unknown'}", rate=per_minute / 60, burst=per_minute
    )
    return bucket.try_take()


def _too_many(request: HttpRequest, webinar: Webinar, wait: float) -> HttpResponse:
    response = render(
        request,
        "events/registration_limited.html",
        {"webinar": webinar, "seconds": max(int(wait) + 1, 1)},
        status=429,
    )
    response["Retry-After"] = str(max(int(wait) + 1, 1))
    return response


def _sent(request: HttpRequest, webinar: Webinar, email: str) -> HttpResponse:
    return render(request, "events/registration_sent.html", {"webinar": webinar, "email": email})


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, code: str) -> HttpResponse:
    webinar = public_webinar(code)
    if not services.accepts_registrations(webinar, registration_of(webinar)):
        return render(request, "events/registration_closed.html", {"webinar": webinar})
    form = RegistrationForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if wait := rate_limited(request):
            return _too_many(request, webinar, wait)
        if form.is_valid():
            try:
                services.register_attendee(webinar, **form.cleaned_data)
            except AttendeeError as error:
                if error.code == "registration_closed":
                    return render(request, "events/registration_closed.html", {"webinar": webinar})
                form.add_error(FIELD_OF.get(error.code), error.message)
            else:
                return _sent(request, webinar, form.cleaned_data["email"])
        status = 400
    return render(
        request, "events/register.html", {"webinar": webinar, "form": form}, status=status
    )


@require_http_methods(["GET", "POST"])
def resend(request: HttpRequest, code: str) -> HttpResponse:
    webinar = public_webinar(code)
    form = ResendForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if wait := rate_limited(request):
            return _too_many(request, webinar, wait)
        if form.is_valid():
            services.resend_link(webinar, email=form.cleaned_data["email"])
            return _sent(request, webinar, form.cleaned_data["email"])
        status = 400
    return render(request, "events/resend.html", {"webinar": webinar, "form": form}, status=status)
