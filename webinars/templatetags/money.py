"""`{% load money %}`: amounts and rates on pages and in emails (`webinars.formatting`)."""

from django import template

from webinars.formatting import format_money, format_percent

register = template.Library()


@register.simple_tag
def money(minor: int, currency: str) -> str:
    """`{% money price_minor currency %}` -> "$9,000.00 USD"."""
    return format_money(minor, currency)


@register.filter
def percent(basis_points: int) -> str:
    """`{{ rate_bp|percent }}` -> "23%"."""
    return format_percent(basis_points)
