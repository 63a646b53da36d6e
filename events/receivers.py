"""Booking signals (sent after commit, with ids): plan the cluster and publish the doors on
confirmation, tear down and close the doors at once when a booking is cancelled or
expires, and keep the attendance summary when it completes."""

from typing import Any

from events.services import teardown
from webinars.jobs import enqueue_on_commit


def on_booking_confirmed(sender: Any, webinar_id: int, **kwargs: Any) -> None:
    enqueue_on_commit("events.tasks.plan_cluster_task", webinar_id=webinar_id)
    enqueue_on_commit("events.tasks.publish_admission_task", webinar_id=webinar_id)


def on_booking_ended_early(sender: Any, webinar_id: int, status: str = "", **kwargs: Any) -> None:
    teardown.teardown_for_webinar(webinar_id, reason=f"booking {status}")
    enqueue_on_commit("events.tasks.publish_admission_task", webinar_id=webinar_id)


def on_booking_completed(sender: Any, webinar_id: int, **kwargs: Any) -> None:
    enqueue_on_commit("events.tasks.record_attendance_task", webinar_id=webinar_id)
