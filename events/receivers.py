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


# Staff invitations (events.services.invitations).
def invite_team(sender: Any, webinar_id: int, **kwargs: Any) -> None:
    enqueue_on_commit("events.tasks.send_staff_invitations_task", webinar_id=webinar_id)


def tell_team_cancelled(sender: Any, webinar_id: int, **kwargs: Any) -> None:
    enqueue_on_commit("events.tasks.notify_team_cancelled_task", webinar_id=webinar_id)
    retry_open_roles(sender)


def retry_open_roles(sender: Any, **kwargs: Any) -> None:
    """Availability changed (people released, a new member, leave withdrawn): try the
    webinars whose team is incomplete again. Connected to the booking signals and to the
    roster models' saves and deletes, so every path that frees someone counts (the admin,
    the shell, a data import); it only queues the retry, which does the work."""
    if kwargs.get("raw"):  # loaddata: no side effects
        return
    if sender is not None and kwargs.get("created") is False:
        return  # an edit of an existing member: not new availability
    enqueue_on_commit("events.tasks.fill_open_roles_task")


def on_booking_completed(sender: Any, webinar_id: int, **kwargs: Any) -> None:
    enqueue_on_commit("events.tasks.record_attendance_task", webinar_id=webinar_id)
