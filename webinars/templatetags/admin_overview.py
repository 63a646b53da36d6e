"""`{% load admin_overview %}`: the sections other apps registered for the admin's start page
(`webinars.admin_overview`)."""

from typing import Any

from django import template

from webinars.admin_overview import render_sections

register = template.Library()


@register.simple_tag(takes_context=True)
def admin_overview_sections(context: dict[str, Any]) -> list[str]:
    """`{% admin_overview_sections as sections %}`: each section's HTML (already escaped by
    its own template), in registration order."""
    request = context.get("request")
    return render_sections(request) if request is not None else []
