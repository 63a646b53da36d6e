"""Organiser and account pages of the booking core."""
