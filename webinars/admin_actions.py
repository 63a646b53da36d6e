"""Extension point for the webinars admin's list of actions: other apps (billing, events)
add theirs from their own admin module, so `webinars` never imports them (as panels.py
does for the detail page). `WebinarAdmin.actions` reads the registry, so Django's own
checks, permission filtering and action dispatch apply to these actions like to its own.

An action is a plain admin action: `fn(modeladmin, request, queryset)`, described with
`@admin.action(description=...)` (and `permissions=[...]` where it needs more than the
change list). Register it once, at import of the registering app's admin module.
"""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from webinars.models import Webinar

WebinarAction = Callable[[Any, HttpRequest, QuerySet[Webinar]], None]
WEBINAR_ACTIONS: list[WebinarAction] = []


def register_webinar_action(action: WebinarAction) -> WebinarAction:
    """Add `action` to the webinar list's actions (once); usable as a decorator."""
    if action not in WEBINAR_ACTIONS:
        WEBINAR_ACTIONS.append(action)
    return action


def webinar_actions() -> list[WebinarAction]:
    return list(WEBINAR_ACTIONS)
