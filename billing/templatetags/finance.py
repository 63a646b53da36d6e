"""`{% load finance %}`: whether the header and the admin offer the finance pages."""

from typing import Any

from django import template

from billing.views.finance import is_finance as _is_finance

register = template.Library()


@register.filter
def is_finance(user: Any) -> bool:
    """The same test `/finance/` applies, so the link never leads to a 403."""
    return _is_finance(user)
