"""The seam between apps: `webinars` announces lifecycle changes after commit, and
`billing` / `events` connect receivers. Receivers get ids, never instances.

Extension points only: the core booking flow never depends on a receiver running.
"""

from django.db import transaction
from django.dispatch import Signal

# Each is sent with `webinar_id: int`, `status: str` and `reason: str` after commit.
booking_confirmed = Signal()
booking_cancelled = Signal()
booking_completed = Signal()
booking_expired = Signal()


def announce(signal: Signal, webinar_id: int, status: str, reason: str = "") -> None:
    transaction.on_commit(
        lambda: signal.send(sender="webinars", webinar_id=webinar_id, status=status, reason=reason)
    )
