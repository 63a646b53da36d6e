"""Booking terms shown before paying, on webinars' pages and on billing's Payment panel."""

from django import template

from webinars import cancellation

register = template.Library()


@register.inclusion_tag("webinars/_cancellation_policy.html")
def cancellation_policy(heading: str = "Cancellation policy") -> dict[str, object]:
    return {"heading": heading, "lines": cancellation.policy_lines()}
