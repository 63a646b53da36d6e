"""Event Services' domain errors (the style of webinars/errors.py): a code, named
parameters, and a translatable message from this table."""

from django.utils.translation import gettext_lazy as _

from webinars.errors import DomainError

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
