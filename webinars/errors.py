"""Domain errors, one style for every app: a `code` naming the broken rule, the rule's
parameters, and a message from the app's table of translatable texts (gettext_lazy, named
parameters), so French or Italian need only a message catalogue. Views map an error to
400 (rule broken by the input) or 409 (conflict with the current state) with the message
shown to the user; the API answers `{"code", "detail"}`. This module holds the base and
the booking core's table; billing/errors.py holds billing's.
"""

from collections.abc import Mapping
from typing import ClassVar

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

error_messages = {
    "lead_time": _(
        "The {package} package needs {days} days' notice: the earliest start is {earliest}."
    ),
    "duration_range": _("Duration must be between {min} and {max} minutes."),
    "start_in_past": _("The start time is in the past."),
    "beyond_horizon": _("Bookings open at most {days} days ahead."),
    "unknown_timezone": _("Unknown time zone '{tz}'. Use an IANA name such as Europe/Berlin."),
    "split_sum": _("The audience split must add up to 100% (it adds up to {total}%)."),
    "split_empty": _("Choose at least one audience region."),
    "split_share": _("Every region in the audience split needs a share above 0%."),
    "unknown_region": _("Unknown or inactive region '{region}'."),
    "unknown_preset": _("Unknown audience preset '{preset}'."),
    "package_inactive": _("The {package} package is not on sale."),
    "no_capacity": _(
        "That time is no longer available: the relay fleet in {regions} is fully booked then."
    ),
    "no_team": _(
        "That time is no longer available: no Event Services team is free then for the "
        "{package} package."
    ),
    "no_organisation": _("Create your organisation (billing details) before booking."),
    "too_late": _(
        "The booking was released and its start is now closer than the package's "
        "{days} days' lead time, so it can no longer be confirmed."
    ),
    "nonexistent_time": _(
        "{local} does not exist in {tz} (the clocks change that night). Choose another time."
    ),
    "too_many_holds": _(
        "Your organisation already has {count} unpaid holds. Pay for or cancel one first."
    ),
    "invalid_transition": _("A {status} booking cannot be {action}."),
    "already_member": _("{email} already acts for an organisation."),
    "fleet_below_usage": _(
        "Region {region} already has {used} nodes committed at {slot}; the fleet cannot shrink "
        "below that."
    ),
}


class DomainError(Exception):
    """Base of every app's domain errors. A subclass names its table (`messages`: code ->
    gettext_lazy text with {named} parameters) and its answers (`statuses`: code -> HTTP
    status, else `default_status`). Raise it with a code from the table and the text's
    parameters: `BookingError("lead_time", package="10k", days=2, earliest=...)`.

    `message` is rendered when read, in the language active then (the request's)."""

    messages: ClassVar[Mapping[str, Promise]] = {}
    statuses: ClassVar[Mapping[str, int]] = {}
    default_status: ClassVar[int] = 400

    def __init__(self, code: str, **params: object) -> None:
        if code not in self.messages:
            raise KeyError(f"{type(self).__name__} has no message for the code {code!r}")
        self.code = code
        self.params = params
        super().__init__(code)

    @property
    def message(self) -> str:
        return str(self.messages[self.code]).format(**self.params)

    @property
    def http_status(self) -> int:
        return self.statuses.get(self.code, self.default_status)

    def __str__(self) -> str:
        return self.message


class BookingError(DomainError):
    """A booking rule was broken; a conflict with the current state answers 409."""

    messages = error_messages
    statuses = dict.fromkeys(
        ("no_capacity", "no_team", "invalid_transition", "fleet_below_usage"), 409
    )


class CapacityError(BookingError):
    """The fleet (or a staff member's time) is committed up to its capacity."""

    def __init__(self, regions: list[str]) -> None:
        super().__init__("no_capacity", regions=", ".join(regions))
        self.regions = regions


class TeamUnavailableError(CapacityError):
    """No Event Services team can be put together for the webinar's window: the package's
    roles cannot all be filled by people free then (raised by the staffing check)."""

    def __init__(self, package: str) -> None:
        BookingError.__init__(self, "no_team", package=package)
        self.regions = []


class TransientError(Exception):
    """A dependency is briefly unavailable: neither the user's fault nor a bug. Tasks retry
    it (webinars.jobs.TRANSIENT_ERRORS); an adapter's own errors subclass it, e.g.
    billing's GatewayUnavailable."""
