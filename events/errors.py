"""Domain errors of Event Services, in the one style of webinars.errors: a code, its
parameters and a translatable message from the table below. Views answer them with the
message and `http_status` (409 unless the table says otherwise)."""

from django.utils.translation import gettext_lazy as _

from webinars.errors import DomainError

error_messages = {
    # Staff answering an invitation (shown on the answer page).
    "not_open": _("This assignment is no longer open ({status}); nothing was changed."),
    # Organisers booking a rehearsal with the technical lead.
    "no_lead": _("This webinar has no technical lead yet; a rehearsal cannot be booked."),
    "not_bookable": _("A rehearsal can be booked only for a confirmed webinar."),
    "rehearsal_exists": _("A rehearsal is already booked for {when}."),
    "slot_not_offered": _("{when} is not one of the offered rehearsal times."),
    "slot_taken": _("{when} was just taken; choose another time."),
}


class StaffingError(DomainError):
    """An Event Services rule was broken; bad input answers 400, a conflict with the
    current state 409."""

    messages = error_messages
    default_status = 409
    statuses = {"slot_not_offered": 400}
