"""Extension point for capacity besides the fleet: what else a webinar needs at its time
(Event Services staff, registered by `events` from `EventsConfig.ready()`), so `webinars`
never imports the app that owns it.

A check takes part in two places:

- **The quote** (unlocked reads): `prepare(request, span_from, span_until)` loads what
  the check needs once for every start in the span and returns a judge, `start -> reason
  or None`. The quote asks the judge about the start asked for, and the search for the
  nearest alternatives asks it about each candidate, so a start is offered only when the
  fleet and every check fit.
- **The booking's own transactions** (authoritative, under locks): `take(webinar)` runs
  inside `book_webinar` after the fleet slots are taken (and inside a late confirmation
  that re-reserves an expired booking); it raises a `BookingError` (e.g.
  `TeamUnavailableError`) to refuse, which rolls the whole hold back. `confirm(webinar)`
  runs when the booking is confirmed, `give_back(webinar)` when it expires or is
  cancelled, in the same transaction that releases its fleet slots, so a hold can never
  keep one without the other. Each returns what it did (or None), and the booking's
  audit row of that state change carries it under the check's name.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from webinars.models import Webinar
from webinars.rules import BookingRequest

# start -> why it cannot be sold (a message for the organiser), or None when it fits.
Judge = Callable[[datetime], str | None]


@dataclass(frozen=True)
class CapacityCheck:
    name: str
    prepare: Callable[[BookingRequest, datetime, datetime], Judge]
    # Each returns what it did, for the booking's own audit row (None: nothing to add).
    take: Callable[[Webinar], dict[str, Any] | None]
    confirm: Callable[[Webinar], dict[str, Any] | None]
    give_back: Callable[[Webinar], dict[str, Any] | None]


CHECKS: list[CapacityCheck] = []


def register(check: CapacityCheck) -> CapacityCheck:
    """Add `check` (once per name: a second registration under one name replaces it)."""
    CHECKS[:] = [c for c in CHECKS if c.name != check.name]
    CHECKS.append(check)
    return check


def judges(request: BookingRequest, span_from: datetime, span_until: datetime) -> list[Judge]:
    return [check.prepare(request, span_from, span_until) for check in CHECKS]


def refusals(judges: list[Judge], start: datetime) -> list[str]:
    """Why `start` cannot be sold, one reason per check that refuses it."""
    return [reason for judge in judges if (reason := judge(start)) is not None]


def _each(step: str, webinar: Webinar) -> dict[str, Any]:
    """Run `step` of every check; what they did, by check name, for the audit row of the
    booking's state change (one row per state change: the team is part of the hold)."""
    done: dict[str, Any] = {}
    for check in CHECKS:
        result = getattr(check, step)(webinar)
        if result:
            done[check.name] = result
    return done


def take(webinar: Webinar) -> dict[str, Any]:
    return _each("take", webinar)


def confirm(webinar: Webinar) -> dict[str, Any]:
    return _each("confirm", webinar)


def give_back(webinar: Webinar) -> dict[str, Any]:
    return _each("give_back", webinar)
