"""Event Services' admin, one module per capability; importing the package registers all."""

from events.admin import attendees, relays  # noqa: F401 - registers the attendee and relay admins
