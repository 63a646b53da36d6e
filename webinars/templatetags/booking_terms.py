"""Booking terms shown before paying, on webinars' pages and on billing's Payment panel."""

from django import template

from webinars import cancellation
from webinars.models import Webinar

register = template.Library()


@register.inclusion_tag("webinars/_cancellation_policy.html")
def cancellation_policy(
    webinar: Webinar | None = None, heading: str = "Cancellation policy"
) -> dict[str, object]:
    """The configured policy, or the one `webinar` was booked under."""
    return {"heading": heading, "lines": cancellation.policy_lines(webinar)}
