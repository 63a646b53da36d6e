"""The WSGI entry point (gunicorn `config.wsgi:application`, and runserver through
WSGI_APPLICATION).

Requests under settings.JOIN_PATH_PREFIX (`/j/`: the attendees' join page, seat and
heartbeat, the route a flash crowd of a million takes in minutes) go to a second Django
handler whose middleware is settings.JOIN_PATH_MIDDLEWARE: security headers, the
trailing-slash redirect and the frame guard, but no session, CSRF, authentication,
messages, login lockout or static files. Those views read none of it (events/views/join.py)
and each middleware still costs CPU per request, lazy as it is. Every other path goes to
the whole site's handler. Both handlers share the settings, the URLconf and the signals.
"""

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
site = get_wsgi_application()  # sets Django up


class JoinPathHandler(WSGIHandler):
    """Django's WSGI handler with the join path's middleware."""

    middleware: tuple[str, ...] = ()

    def load_middleware(self, is_async: bool = False) -> None:
        # Django's loader reads settings.MIDDLEWARE; it runs once, at start-up, before
        # any request (so before any other thread could read the setting).
        whole_site = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.JOIN_PATH_MIDDLEWARE
        try:
            super().load_middleware(is_async)
            self.middleware = tuple(settings.JOIN_PATH_MIDDLEWARE)
        finally:
            settings.MIDDLEWARE = whole_site


join_path = JoinPathHandler()
_PREFIX = settings.JOIN_PATH_PREFIX


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO", "").startswith(_PREFIX):
        return join_path(environ, start_response)
    return site(environ, start_response)
