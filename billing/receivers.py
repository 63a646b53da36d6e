"""Billing's reactions to booking lifecycle announcements (connected in BillingConfig)."""

from typing import Any

from billing import notify
from webinars.models import Webinar

FUNDS_DEADLINE_PASSED = "funds deadline passed"


def on_booking_expired(*, webinar_id: int, reason: str = "", **_kwargs: Any) -> None:
    """A bank transfer that never arrived: tell the organiser the capacity is released.
    (Money that still arrives later is confirmed if the capacity is free, else refunded.)"""
    if reason != FUNDS_DEADLINE_PASSED:
        return
    webinar = Webinar.objects.select_related("organisation").get(pk=webinar_id)
    notify.funds_deadline_missed(webinar)
