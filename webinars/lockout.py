"""Login throttling glue for django-axes (settings block "Login throttling").

Every password check goes through `django.contrib.auth.authenticate` with the request:
the site login, the admin login and the API's HTTP basic auth (DRF's BasicAuthentication
passes `request=`). After LOGIN_FAILURE_LIMIT failures for one username, or from one
client address, axes refuses even the right password until LOGIN_COOLOFF_MINUTES have
passed since the last failure. The pages answer 429 with `locked_out.html`; the API
answers 429 with its usual error body. Proving access to the mailbox through the password
reset lifts the lock on that username.
"""

import ipaddress
from typing import Any

from axes.helpers import get_cool_off
from axes.signals import user_locked_out
from axes.utils import reset as reset_attempts
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.request import Request

# AccessAttempt.username is a varchar(255).
USERNAME_MAX = 255


def cool_off_seconds() -> int:
    cool_off = get_cool_off()
    return int(cool_off.total_seconds()) if cool_off else 0


def lockout_message() -> str:
    minutes = max(1, cool_off_seconds() // 60)
    return str(
        _(
            "Too many failed login attempts for this account or from your network. "
            "Try again {minutes} minutes after the last attempt, or reset your password."
        )
    ).format(minutes=minutes)


def clean_username(value: object) -> str | None:
    """The key failures are counted under: the login form sends `username`, the API sends
    the user model's `email`; case and surrounding spaces do not make a new username."""
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip().lower()[:USERNAME_MAX]
    return value or None


def login_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """AXES_USERNAME_CALLABLE."""
    credentials = credentials or {}
    for key in ("username", "email"):
        if credentials.get(key):
            return clean_username(credentials[key])
    if request is not None and request.method == "POST":
        return clean_username(request.POST.get("username"))
    return None


def client_ip(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE. Behind the TLS proxy (DJANGO_BEHIND_TLS_PROXY) every
    connection comes from the proxy, so the client is the last X-Forwarded-For entry: the
    one the proxy appended, which the client cannot forge. Anything that is not an address
    falls back to the peer address (the column is PostgreSQL `inet`)."""
    candidates = []
    if getattr(settings, "BEHIND_TLS_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        candidates.append(forwarded.split(",")[-1].strip())
    candidates.append(request.META.get("REMOTE_ADDR", ""))
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the page a locked-out login (site or admin) gets."""
    response = render(
        request,
        "registration/locked_out.html",
        {"message": lockout_message()},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    response["Retry-After"] = str(cool_off_seconds())
    return response


class MalformedCredentialsBackend:
    """Refuses usernames PostgreSQL cannot even look up (a NUL byte, from API basic auth:
    forms already reject it), so they are a failed login (401) rather than a server error.
    Never authenticates anyone by itself."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, **kwargs: Any
    ) -> None:
        values = [username, *kwargs.values()]
        if any(isinstance(v, str) and "\x00" in v for v in values):
            raise PermissionDenied
        return None


class LoginLockedOut(exceptions.Throttled):
    """429 with Retry-After (set by DRF's handler from `wait`) and the same words as the
    lockout page."""

    default_code = "locked_out"

    def __init__(self) -> None:
        super().__init__(detail=lockout_message())
        self.wait = cool_off_seconds()


def refuse_locked_out_api_client(
    sender: object, request: HttpRequest | Request, **kwargs: Any
) -> None:
    """Receiver of axes' `user_locked_out`. Axes marks a locked-out request for its
    middleware, but DRF authenticates on its own Request wrapper, which that middleware
    never sees: DRF would answer "Invalid username/password." Raising here (inside
    `authenticate`, which DRF calls while authenticating) turns it into a 429 with
    Retry-After through the API's exception handler."""
    if isinstance(request, Request):
        raise LoginLockedOut


def connect() -> None:
    user_locked_out.connect(refuse_locked_out_api_client, dispatch_uid="webinars-api-lockout")


def forget_failures(username: str) -> None:
    """Forget the failed logins counted against `username` (those counted against an
    address stay): setting a new password through the emailed link proves the account is
    yours."""
    username_key = clean_username(username)
    if username_key:  # without a username, axes would reset every lock
        reset_attempts(username=username_key)
