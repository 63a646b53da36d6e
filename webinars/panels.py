"""Extension point for the webinar detail page: other apps (billing, events) register
panels here from their AppConfig.ready(), so `webinars` never imports them."""

from collections.abc import Callable

from django.http import HttpRequest

from webinars.models import Webinar

Panel = Callable[[HttpRequest, Webinar], str]
DETAIL_PANELS: list[Panel] = []


def register(panel: Panel) -> Panel:
    if panel not in DETAIL_PANELS:
        DETAIL_PANELS.append(panel)
    return panel


def render_panels(request: HttpRequest, webinar: Webinar) -> list[str]:
    return [panel(request, webinar) for panel in DETAIL_PANELS]
