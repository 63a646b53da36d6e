"""Billing's transactional email: the one helper lives in `webinars.emails` (events sends
attendees' join links with it too); re-exported here for billing's callers."""

from webinars.emails import make_message

__all__ = ["make_message"]
