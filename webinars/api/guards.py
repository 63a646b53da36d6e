"""What stands between the network and the API views: the JSON parser with limits, the
authentication that answers 401, and the throttles. Named in settings.REST_FRAMEWORK,
which DRF imports while `rest_framework.views` is still loading, so this module must not
import DRF's views (webinars.api.views does)."""

import logging
from typing import Any

from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework import exceptions, parsers, throttling
from rest_framework.authentication import BasicAuthentication as DrfBasicAuthentication
from rest_framework.request import Request
from rest_framework.settings import api_settings

from webinars.models import User

logger = logging.getLogger(__name__)

# Our payloads are two levels deep; anything far deeper is an attack on the parser.
MAX_JSON_DEPTH = 32
THROTTLE_CACHE = "api-throttle"


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with limits, so hostile bodies get a 400 and never reach a query:
    nesting deeper than MAX_JSON_DEPTH (however deep: the C decoder's RecursionError is
    caught too), and NUL characters or unpaired surrogates in any key or string, which
    PostgreSQL cannot store and no field of ours needs."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError(_too_deep()) from exc
        _check_json(data)
        return data


def _too_deep() -> str:
    return f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."


def _check_json(data: Any) -> None:
    """Walk the parsed document without recursion."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            if depth > MAX_JSON_DEPTH:
                raise exceptions.ParseError(_too_deep())
            for key, item in value.items():
                _check_text(key)
                pending.append((item, depth + 1))
        elif isinstance(value, list):
            if depth > MAX_JSON_DEPTH:
                raise exceptions.ParseError(_too_deep())
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _check_text(value)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise exceptions.ParseError("JSON parse error - text may not contain NUL (\\u0000).")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise exceptions.ParseError(
            "JSON parse error - text may not contain unpaired surrogates."
        ) from exc


class BasicAuthentication(DrfBasicAuthentication):
    """HTTP Basic with the email as user name. Listed first in DEFAULT_AUTHENTICATION_CLASSES
    so that missing or wrong credentials answer 401 with `WWW-Authenticate`, not 403."""

    www_authenticate_realm = "Mega Webinars API"

    def authenticate_credentials(
        self, userid: str, password: str, request: Request | None = None
    ) -> tuple[User, None]:
        if "\x00" in userid or "\x00" in password:
            # No account can match, and PostgreSQL would refuse the lookup with a 500.
            raise exceptions.AuthenticationFailed("Invalid username/password.")
        return super().authenticate_credentials(userid, password, request)


class _SharedRateThrottle(throttling.SimpleRateThrottle):
    """Counts in the `api-throttle` cache (Redis), so every web worker and host shares one
    budget per client, and reads its rate from the settings on each request (DRF's own
    classes freeze the rates at import). If Redis is down the request is let through and
    logged: an outage of the counter must not take the API down with it."""

    @property
    def cache(self) -> Any:
        return caches[THROTTLE_CACHE]

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            logger.exception("API throttle cache unavailable; request allowed")
            return True


class AnonThrottle(_SharedRateThrottle, throttling.AnonRateThrottle):
    """Anonymous requests, per client address (`API_THROTTLE_ANON`)."""

    scope = "anon"


class UserThrottle(_SharedRateThrottle, throttling.UserRateThrottle):
    """Signed-in requests, per user (`API_THROTTLE_USER`)."""

    scope = "user"


class AnonQuoteThrottle(_SharedRateThrottle, throttling.AnonRateThrottle):
    """The anonymous quote runs a search over ALTERNATIVE_SEARCH_DAYS either side of the
    requested time, so it gets its own, tighter budget (`API_THROTTLE_ANON_QUOTE`)."""

    scope = "anon_quote"
