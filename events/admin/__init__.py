"""Event Services' admin, one module per capability; importing the package registers all."""

from events.admin import (
    attendees,  # noqa: F401 - registers the registrant admin
    relays,  # noqa: F401 - registers the relay-cluster admin
    staffing,  # noqa: F401 - registers the roster and assignments
)
