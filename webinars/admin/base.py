"""The admin's toolkit, shared by every app's admin: the site's settings, read-only and
edit-only mixins, running a service per selected row, and displays that show times with
their zone, money from minor units and JSON as tables."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from webinars.errors import DomainError
from webinars.formatting import format_in_zone, format_money, format_percent
from webinars.models import (
    Webinar,
)

# The model list is one click away on the index; without the sidebar the change lists keep
# their columns within a 1280 px screen.
admin.site.enable_nav_sidebar = False
admin.site.site_header = "Mega Webinars admin"
admin.site.site_title = "Mega Webinars admin"

EMPTY = "—"


class EditOnlyMixin:
    """Rows are created by services (catalogue data, sign-up, booking) and never deleted
    (bookings, invoices and the audit log refer to them): staff may only edit them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyMixin(EditOnlyMixin):
    """View-only: rows are written by services, never by hand (admins and inlines)."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


def apply_to_each(
    request: HttpRequest,
    queryset: QuerySet[Any],
    action: Callable[[Any], str],
    *,
    label: Callable[[Any], str] = lambda obj: str(obj.code),
) -> None:
    """Run one service per selected row for an admin action: a domain error becomes an
    error message for that row and the others still run; `action` returns the success
    text."""
    for obj in queryset:
        try:
            done = action(obj)
        except DomainError as exc:
            messages.error(request, f"{label(obj)}: {exc.message}")
        else:
            messages.success(request, f"{label(obj)}: {done}")


# --- Display helpers (also used by billing/admin.py) ----------------------------------------


def utc(moment: datetime | None) -> str:
    return EMPTY if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def zoned(moment: datetime | None, zone: str) -> SafeString | str:
    """A webinar's time in its own zone with the abbreviation, and in UTC below it."""
    if moment is None:
        return EMPTY
    return format_html(
        '<span class="nowrap">{}</span><br><span class="quiet nowrap">{}</span>',
        format_in_zone(moment, zone),
        utc(moment),
    )


def webinar_time(
    field: str, description: str, *, ordering: str | None = None
) -> Callable[[Any, Webinar], SafeString | str]:
    """A WebinarAdmin column/field (a method): the webinar's time `field` in its own zone
    and in UTC (`zoned`)."""

    @admin.display(description=description, ordering=ordering)
    def show(modeladmin: Any, obj: Webinar) -> SafeString | str:
        return zoned(getattr(obj, field), obj.time_zone)

    show.__name__ = f"{field}_zoned"
    return show


def money_display(
    field: str,
    description: str,
    *,
    currency: Callable[[Any], str] = lambda obj: obj.currency,
) -> Callable[[Any], SafeString | str]:
    """An admin column/field showing the integer minor units in `field` as money."""

    @admin.display(description=description, ordering=field)
    def show(obj: Any) -> SafeString | str:
        value = getattr(obj, field)
        if value is None:
            return EMPTY
        return format_html('<span class="nowrap">{}</span>', format_money(value, currency(obj)))

    show.__name__ = f"{field}_money"
    return show


def table(headers: list[str], rows: list[list[Any]], footer: list[Any] | None = None) -> SafeString:
    """A small read-only HTML table (values are escaped)."""
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    foot = (
        format_html(
            "<tfoot><tr>{}</tr></tfoot>",
            format_html_join("", "<th>{}</th>", ((cell,) for cell in footer)),
        )
        if footer
        else ""
    )
    return format_html(
        '<table class="readable"><thead><tr>{}</tr></thead><tbody>{}</tbody>{}</table>',
        head,
        body,
        foot,
    )


def json_display(field: str, description: str) -> Callable[[Any], str]:
    """A flat JSON object as a two-column table; anything nested, pretty-printed."""

    @admin.display(description=description)
    def show(obj: Any) -> SafeString | str:
        value = getattr(obj, field)
        if not value:
            return EMPTY
        if isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values()):
            return table(["field", "value"], [[k, v] for k, v in value.items()])
        return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))

    show.__name__ = f"{field}_table"
    return show


def readable_fields(
    model: type[models.Model], *, currency: Callable[[Any], str] = lambda obj: obj.currency
) -> list[Any]:
    """A read-only admin's fields in model order: amounts in minor units as money, basis
    points as percentages, JSON as tables."""
    fields: list[Any] = []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        label = str(f.verbose_name)
        if f.name.endswith("_minor"):
            label = label.removesuffix(" minor").replace("tax", "VAT")
            fields.append(money_display(f.name, label, currency=currency))
        elif f.name.endswith("_bp"):
            fields.append(percent_display(f.name, label.removesuffix(" bp").replace("tax", "VAT")))
        elif isinstance(f, models.JSONField):
            fields.append(json_display(f.name, label))
        else:
            fields.append(f.name)
    return fields


def percent_display(field: str, description: str) -> Callable[[Any], str]:
    @admin.display(description=description, ordering=field)
    def show(obj: Any) -> str:
        return format_percent(getattr(obj, field))

    show.__name__ = f"{field}_percent"
    return show


# --- Users, catalogue, regions ------------------------------------------------------------


def changed_fields(form: forms.ModelForm, editable: tuple[str, ...]) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in editable}


def run_service(
    request: HttpRequest, service: Callable[..., object], *args: Any, **kwargs: Any
) -> None:
    """A broken rule becomes an error message on the page instead of a server error."""
    try:
        service(*args, **kwargs)
    except DomainError as exc:
        messages.error(request, exc.message)
