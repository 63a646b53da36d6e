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
    # Leads swapping the person on an assignment (the admin's "Swap person").
    "swap_not_eligible": _("{name} cannot take this assignment: {why}. Nothing was changed."),
    "swap_taken": _(
        "{name} was just given overlapping work; nothing was changed. Choose someone else."
    ),
}


class StaffingError(DomainError):
    """An Event Services rule was broken; bad input answers 400, a conflict with the
    current state 409."""

    messages = error_messages
    default_status = 409
    statuses = {"slot_not_offered": 400, "swap_not_eligible": 400}


attendee_messages = {
    "not_confirmed": _(
        "Registration opens once the booking is confirmed (this webinar is {status})."
    ),
    "registration_closed": _("Registration for this webinar is closed."),
    "consent_required": _("Please agree to receive the webinar emails to register."),
    "invalid_email": _("Enter a valid email address."),
    "invalid_name": _("Enter your name (at most {max} characters)."),
    "invalid_country": _("'{country}' is not an ISO country code (e.g. US, DE, GB)."),
    "file_empty": _("The file is empty: it needs a header row (email, name, country)."),
    "file_not_text": _(
        "This is not UTF-8 text (from about this line on). Export the sheet as CSV (UTF-8) "
        "and try again."
    ),
    "file_not_csv": _("This is not a CSV file ({detail})."),
    "file_columns": _(
        "The header row needs the columns email and name (country is optional); it has {found}."
    ),
    "file_too_many_rows": _("The file has more than {max} invitees; split it into parts."),
    "file_too_large": _("The file is larger than {max_mb} MB; split it into parts."),
    "row_columns": _("Expected {expected} values, found {found}."),
    "import_not_allowed": _("Invitees can be imported once the booking is confirmed."),
}


class AttendeeError(DomainError):
    """A registration rule was broken; a conflict with the webinar's state answers 409."""

    messages = attendee_messages
    statuses = dict.fromkeys(("not_confirmed", "registration_closed", "import_not_allowed"), 409)
