"""`{% load catalogue %}`: what a booking buys, in words: a package's Event Services staff
and a webinar's audience split."""

from django import template

register = template.Library()

ROLE_NAMES = {
    "producer": ("producer", "producers"),
    "technical_lead": ("technical lead", "technical leads"),
    "moderator": ("moderator", "moderators"),
    "stream_engineer": ("stream engineer", "stream engineers"),
}


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
def split_items(split: dict[str, int]) -> list[tuple[str, int]]:
    """Audience shares, largest first (JSONB does not keep the order they were given in)."""
    return sorted(split.items(), key=lambda item: (-item[1], item[0]))
