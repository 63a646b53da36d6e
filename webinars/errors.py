"""Domain errors of the booking core. Views map them to 400 (rule broken by the input)
or 409 (conflict with the current state), with the message shown to the user."""

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
    """Base of every app's domain errors: `code`, a user-facing `message`, `http_status`."""

    code: str
    message: str

    @property
    def http_status(self) -> int:
        return 400


class BookingError(DomainError):
    """A booking rule was broken; `code` names the rule, `http_status` the answer to give."""

    conflict_codes = frozenset({"no_capacity", "invalid_transition", "fleet_below_usage"})

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.params = params
        self.message = str(error_messages[code]).format(**params)
        super().__init__(self.message)

    @property
    def http_status(self) -> int:
        return 409 if self.code in self.conflict_codes else 400


class CapacityError(BookingError):
    """The fleet (or a staff member's time) is committed up to its capacity."""

    def __init__(self, regions: list[str]) -> None:
        super().__init__("no_capacity", regions=", ".join(regions))
        self.regions = regions


class TransientError(Exception):
    """A dependency is briefly unavailable: neither the user's fault nor a bug. Tasks retry
    it (webinars.jobs.TRANSIENT_ERRORS); an adapter's own errors subclass it, e.g.
    billing's GatewayUnavailable."""
