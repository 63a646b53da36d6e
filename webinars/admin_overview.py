"""Extension point for the admin's start page: other apps (events) register sections here
from their AppConfig.ready(), and `templates/admin/index.html` shows them above the list of
models, so `webinars` renders them without importing those apps."""

from collections.abc import Callable

from django.http import HttpRequest

# A section renders itself for the request's user; "" when it has nothing for them.
Section = Callable[[HttpRequest], str]
INDEX_SECTIONS: list[Section] = []


def register(section: Section) -> Section:
    if section not in INDEX_SECTIONS:
        INDEX_SECTIONS.append(section)
    return section


def render_sections(request: HttpRequest) -> list[str]:
    return [html for html in (section(request) for section in INDEX_SECTIONS) if html]
