"""Display helpers: money from minor units, staff roles, times in a webinar's zone."""

from datetime import UTC, datetime, timedelta
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


def zone_abbreviation(moment: datetime) -> str:
    """The zone's abbreviation at that moment ("CET", "EDT"). Zones that have no letters
    for it (tzdata writes "+04", "-03") are shown as an offset from UTC ("UTC+4")."""
    name = moment.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    hours, rest = divmod(int(abs(offset).total_seconds()) // 60, 60)
    if not hours and not rest:
        return "UTC"
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def format_in_zone(moment: datetime | None, zone: str) -> str:
    """The one way times are shown to people (pages, emails, invoices): in the webinar's
    zone with the zone's abbreviation, e.g. "Fri 15 Jan 2027, 15:00 CET". Times are aware
    UTC in the database; a naive one is read as UTC rather than as the server's zone."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%a %d %b %Y, %H:%M} {zone_abbreviation(local)}"


@register.filter
def in_zone(moment: datetime | None, zone: str) -> str:
    return format_in_zone(moment, zone)


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
    "webinar.hold_extended": "Hold extended while you pay",
    "payment.checkout_started": "Checkout opened",
    "payment.awaiting_funds": "Bank transfer chosen",
    "payment.succeeded": "Payment received",
    "payment.failed": "Payment failed",
    "payment.expired": "Checkout expired",
    "payment.disputed": "Payment disputed",
    "refund.requested": "Refund requested",
    "refund.pending": "Refund in progress",
    "refund.succeeded": "Refund completed",
    "refund.failed": "Refund failed",
    "refund.canceled": "Refund cancelled",
    "invoice.issued": "Invoice issued",
    "invoice.emailed": "Invoice emailed",
    "credit_note.issued": "Credit note issued",
    "credit_note.emailed": "Credit note emailed",
}


@register.filter
def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace(".", " ").replace("_", " ").capitalize())


@register.filter
def split_items(split: dict[str, int]) -> list[tuple[str, int]]:
    """Audience shares, largest first (JSONB does not keep the order they were given in)."""
    return sorted(split.items(), key=lambda item: (-item[1], item[0]))
