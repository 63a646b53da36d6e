"""Booking signals (sent after commit, with ids): plan on confirmation, tear down at once
when a booking is cancelled or expires."""

from typing import Any

from events import queue
from events.services import teardown


def on_booking_confirmed(sender: Any, webinar_id: int, **kwargs: Any) -> None:
    queue.enqueue(queue.PLAN, webinar_id=webinar_id)


def on_booking_ended_early(sender: Any, webinar_id: int, status: str = "", **kwargs: Any) -> None:
    teardown.teardown_for_webinar(webinar_id, reason=f"booking {status}")
