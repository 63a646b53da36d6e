"""Booking signals (sent after commit, with ids): plan on confirmation, tear down at once
when a booking is cancelled or expires."""

from typing import Any

from events.services import teardown
from webinars.jobs import enqueue_on_commit


def on_booking_confirmed(sender: Any, webinar_id: int, **kwargs: Any) -> None:
    enqueue_on_commit("events.tasks.plan_cluster_task", webinar_id=webinar_id)


def on_booking_ended_early(sender: Any, webinar_id: int, status: str = "", **kwargs: Any) -> None:
    teardown.teardown_for_webinar(webinar_id, reason=f"booking {status}")
