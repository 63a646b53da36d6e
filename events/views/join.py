"""The attendee's join path: `/j/<token>/` (the player page), `POST /j/<token>/seat`
(admission) and `POST /j/<token>/heartbeat`.

These views run no SQL and never touch the session or the user: the token is signed, the
doors and seats are in Redis. config/wsgi.py serves them through a handler with the lean
settings.JOIN_PATH_MIDDLEWARE (no session, CSRF, auth, messages or axes); they also
answer the same under the whole stack (the test client's), since the page's template is
standalone (no `user`, no `messages`, no CSRF token). tests/events/test_admission_views.py
and test_join_handler.py assert zero queries and no cookie. The two POSTs are CSRF-exempt:
they act on the signed token in their URL, not on any cookie, so a forged cross-site
request can do nothing the link's holder could not.

The page itself admits no one: a GET (a mail scanner opening the link, a prefetch) takes
no seat. Its script asks for the seat, shows "you're in" with the edge, sends the
heartbeats, and in the waiting room retries with exponential backoff and full jitter.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from events.ratelimit import TokenBucket
from events.selectors.attendance import join_config
from events.services import admission
from events.tokens import JoinClaim, read_join_token, viewer_token
from webinars.formatting import format_in_zone
from webinars.lockout import client_ip

SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
REGION_RE = re.compile(r"^[a-z0-9-]{1,20}$")
WAIT_BASE_S = 2  # the waiting room's first retry; doubles up to WAIT_CAP_S, full jitter
WAIT_CAP_S = 60


def _rate_limited(request: HttpRequest) -> float:
    """The page's rate limit (the seat script applies the same bucket, per
    address and webinar, inside its one round trip): seconds to wait, else 0."""
    if settings.ATTENDEE_RATE_PER_IP <= 0:
        return 0.0
    bucket = TokenBucket(
        f"join:{client_ip(request) or 'unknown'}",
        rate=settings.ATTENDEE_RATE_PER_IP,
        burst=settings.ATTENDEE_BURST_PER_IP,
    )
    return bucket.try_take()


def _route_region(request: HttpRequest) -> str:
    """The viewer's region from the CDN's geo header (ATTENDEE_GEO_HEADER), if any."""
    if not settings.ATTENDEE_GEO_HEADER:
        return ""
    value = request.headers.get(settings.ATTENDEE_GEO_HEADER, "").strip().lower()
    return value if REGION_RE.match(value) else ""


def _page(request: HttpRequest, status: int, **context: Any) -> HttpResponse:
    return HttpResponse(render_to_string("events/join.html", context), status=status)


def _json(http_status: int, /, **body: Any) -> JsonResponse:
    response = JsonResponse(body, status=http_status)
    if http_status == 429:
        response["Retry-After"] = str(max(1, round(body.get("retry_after_s", 1))))
    return response


INVALID = gettext_lazy(
    "This join link is not valid. Check that you copied the whole link from your email."
)


@require_GET
def join_page(request: HttpRequest, token: str) -> HttpResponse:
    wait = _rate_limited(request)
    if wait:
        response = _page(request, 429, state="busy", retry_after_s=wait)
        response["Retry-After"] = str(max(1, round(wait)))
        return response
    claim = read_join_token(token)
    config = join_config(claim.webinar_code, claim.registrant_id) if claim else None
    if claim is None or config is None:
        return _page(request, 404, state="invalid", message=INVALID)
    context: dict[str, Any] = {
        "title": config.title,
        "starts": format_in_zone(config.start_at, config.time_zone),
        "opens": format_in_zone(config.opens_at, config.time_zone),
    }
    if config.revoked:
        message = _("This join link was withdrawn by the organiser.")
        return _page(request, 403, state="invalid", message=message, **context)
    now = time.time()
    if now >= config.ends_at.timestamp():
        return _page(request, 410, state="ended", **context)
    if now < config.opens_at.timestamp():
        opens_in = config.opens_at.timestamp() - now
        return _page(request, 200, state="early", opens_in_s=round(opens_in), **context)
    return _page(
        request,
        200,
        state="open",
        token=token,
        heartbeat_s=settings.ATTENDEE_HEARTBEAT_S,
        wait_base_s=WAIT_BASE_S,
        wait_cap_s=WAIT_CAP_S,
        **context,
    )


def _session_from(request: HttpRequest) -> str | JsonResponse | None:
    """The session id in the JSON body; None when there is none; a 400 when malformed."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return _json(400, status="bad_request", detail=_("The body must be JSON."))
    session = body.get("session") if isinstance(body, dict) else None
    if session is None:
        return None
    if not isinstance(session, str) or not SESSION_RE.match(session):
        return _json(400, status="bad_request", detail=_("Missing or malformed session."))
    return session


def _claim_and_session(
    request: HttpRequest, token: str
) -> tuple[JoinClaim, str | None] | JsonResponse:
    """What a seat or heartbeat request is about: the token's claim and the session id in
    its body; the answer itself when the token is forged or the body malformed."""
    claim = read_join_token(token)
    if claim is None:
        return _json(404, status="invalid", detail=INVALID)
    session = _session_from(request)
    if isinstance(session, JsonResponse):
        return session
    return claim, session


def _refused(claim: JoinClaim | None, status: str) -> JsonResponse | None:
    """The answer for a token or a state that admits no one; None when it may go on."""
    if claim is None or status == admission.CLOSED:
        return _json(404, status="invalid", detail=INVALID)
    if status == admission.REVOKED:
        return _json(403, status="revoked", detail=_("This join link was withdrawn."))
    if status == admission.ENDED:
        return _json(410, status="ended", detail=_("This webinar has ended."))
    if status == admission.EARLY:
        return _json(409, status="early", detail=_("The doors are not open yet."))
    return None


def _seated(claim: JoinClaim, answer: admission.SeatAnswer) -> JsonResponse:
    return _json(
        200,
        status=answer.status,
        session=answer.session,
        edge=answer.edge,
        endpoint=answer.endpoint,
        viewer_token=viewer_token(
            claim.webinar_code, claim.registrant_id, answer.edge, answer.session
        ),
        viewer_token_ttl_s=settings.ATTENDEE_VIEWER_TOKEN_TTL_S,
        heartbeat_s=settings.ATTENDEE_HEARTBEAT_S,
    )


def _busy(answer: admission.SeatAnswer) -> JsonResponse:
    return _json(429, status="busy", retry_after_s=answer.retry_after_s)


@csrf_exempt
@require_POST
def join_seat(request: HttpRequest, token: str) -> JsonResponse:
    asked = _claim_and_session(request, token)
    if isinstance(asked, JsonResponse):
        return asked
    claim, session = asked
    answer = admission.take_seat(
        claim,
        session=session,
        route_region=_route_region(request),
        address=client_ip(request) or "unknown",
    )
    if answer.status == admission.BUSY:
        return _busy(answer)
    refused = _refused(claim, answer.status)
    if refused is not None:
        return refused
    if answer.status in (admission.FULL, admission.PREPARING):
        detail = (
            _("The webinar is full. You will be let in as soon as a seat frees up.")
            if answer.status == admission.FULL
            else _("The stream is being prepared. You will be let in as soon as it is ready.")
        )
        return _json(200, status="waiting", reason=answer.status, detail=detail)
    return _seated(claim, answer)


@csrf_exempt
@require_POST
def join_heartbeat(request: HttpRequest, token: str) -> JsonResponse:
    asked = _claim_and_session(request, token)
    if isinstance(asked, JsonResponse):
        return asked
    claim, session = asked
    if session is None:
        return _json(400, status="bad_request", detail=_("Missing or malformed session."))
    answer = admission.refresh_seat(claim, session=session)
    refused = _refused(claim, answer.status)
    if refused is not None:
        return refused
    if answer.status == admission.TAKEN_OVER:
        detail = _("This link is now playing on another device.")
        return _json(409, status="taken_over", detail=detail)
    if answer.status == admission.RELEASED:
        return _json(409, status="released", detail=_("Your seat was released. Rejoining…"))
    return _seated(claim, answer)
