"""`{% load times %}`: times in a webinar's zone (`webinars.formatting.format_in_zone`)."""

from datetime import datetime

from django import template

from webinars.formatting import format_in_zone

register = template.Library()


@register.filter
def in_zone(moment: datetime | None, zone: str) -> str:
    """`{{ webinar.start_at|in_zone:webinar.time_zone }}` -> "Fri 15 Jan 2027, 15:00 CET"."""
    return format_in_zone(moment, zone)
