"""Display helpers: money from minor units, staff roles, times in a webinar's zone."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import template

register = template.Library()

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
ROLE_NAMES = {
    "producer": ("producer", "producers"),
    "technical_lead": ("technical lead", "technical leads"),
    "moderator": ("moderator", "moderators"),
    "stream_engineer": ("stream engineer", "stream engineers"),
}


def format_money(minor: int, currency: str) -> str:
    major, cents = divmod(abs(int(minor)), 100)
    sign = "-" if minor < 0 else ""
    return f"{sign}{SYMBOLS.get(currency, '')}{major:,}.{cents:02d} {currency}"


@register.simple_tag
def money(minor: int, currency: str) -> str:
    return format_money(minor, currency)


@register.simple_tag
def staff_roles(roles: dict[str, int]) -> str:
    parts = []
    # JSONB does not keep key order; show roles in order of seniority.
    ordered = sorted(
        roles.items(),
        key=lambda kv: list(ROLE_NAMES).index(kv[0]) if kv[0] in ROLE_NAMES else len(ROLE_NAMES),
    )
    for role, count in ordered:
        singular, plural = ROLE_NAMES.get(role, (role, role + "s"))
        parts.append(singular if count == 1 else f"{count} {plural}")
    return ", ".join(parts)


@register.filter
def in_zone(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y, %H:%M %Z")


@register.filter
def percent(basis_points: int) -> str:
    return f"{basis_points / 100:g}%"


ACTION_LABELS = {
    "webinar.held": "Capacity held",
    "webinar.awaiting_funds": "Waiting for the bank transfer",
    "webinar.confirmed": "Booking confirmed",
    "webinar.live": "Webinar live",
    "webinar.completed": "Webinar completed",
    "webinar.expired": "Hold released",
    "webinar.cancelled": "Booking cancelled",
    "webinar.flagged": "Flagged for our team",
}


@register.filter
def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace(".", " ").replace("_", " ").capitalize())


@register.filter
def split_items(split: dict[str, int]) -> list[tuple[str, int]]:
    """Audience shares, largest first (JSONB does not keep the order they were given in)."""
    return sorted(split.items(), key=lambda item: (-item[1], item[0]))
