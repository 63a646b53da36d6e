"""iCalendar (RFC 5545) files of Event Services work, built with the `icalendar` library:
invitations (METHOD:REQUEST) and cancellations (METHOD:CANCEL) of one assignment or
rehearsal, and a member's feed (METHOD:PUBLISH) of all their active work.

The UID is stable per assignment (its opaque code), so a calendar that received the
invitation replaces it with a later update or removes it on the cancellation; SEQUENCE
grows with each change (the count of seconds since creation, monotonic without storage).
Times are UTC and cover the whole work window, preparation and wrap-up included.
"""

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from events.models import Assignment, StaffMember

PRODID = "-//Mega Webinars//Event Services//EN"
UID_DOMAIN = "megawebinar.events"


def uid_of(assignment: Assignment) -> str:
    return f"{assignment.code}@{UID_DOMAIN}"


def _calendar(method: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    return cal


def _address(email: str, name: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(name)
    for key, value in params.items():
        address.params[key] = vText(value)
    return address


def summary_of(assignment: Assignment) -> str:
    what = "Rehearsal" if assignment.kind == Assignment.Kind.REHEARSAL else "Webinar"
    return f"{what}: {assignment.webinar.title} ({assignment.get_role_display()})"


def _event(
    assignment: Assignment, *, status: str, extra_attendees: Iterable[tuple[str, str]] = ()
) -> Event:
    webinar = assignment.webinar
    member = assignment.staff
    start: datetime = assignment.window.lower
    end: datetime = assignment.window.upper
    event = Event()
    event.add("uid", uid_of(assignment))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("sequence", int((timezone.now() - assignment.created_at).total_seconds()))
    event.add("status", status)
    event.add("summary", summary_of(assignment))
    if assignment.kind == Assignment.Kind.REHEARSAL:
        detail = "Tech check with the organiser before the webinar."
    else:
        detail = (
            f"Webinar {webinar.code} starts {webinar.start_at:%Y-%m-%d %H:%M} UTC; this "
            "covers the preparation before it and the wrap-up after it."
        )
    event.add("description", detail)
    event.add("url", settings.SITE_URL + reverse("webinars:detail", args=[webinar.code]))
    event["organizer"] = _address(settings.EVENT_SERVICES_EMAIL, "Event Services")
    attendee = _address(
        member.user.email,
        member.display_name,
        role="REQ-PARTICIPANT",
        partstat="ACCEPTED" if assignment.accepted_at else "NEEDS-ACTION",
        rsvp="TRUE",
    )
    event.add("attendee", attendee, encode=False)
    for email, name in extra_attendees:
        event.add(
            "attendee",
            _address(email, name, role="REQ-PARTICIPANT", partstat="ACCEPTED"),
            encode=False,
        )
    return event


def invitation_ics(assignment: Assignment, *, extra: Iterable[tuple[str, str]] = ()) -> bytes:
    cal = _calendar("REQUEST")
    cal.add_component(_event(assignment, status="CONFIRMED", extra_attendees=extra))
    return cal.to_ical()


def cancellation_ics(assignment: Assignment) -> bytes:
    cal = _calendar("CANCEL")
    cal.add_component(_event(assignment, status="CANCELLED"))
    return cal.to_ical()


def feed_ics(member: StaffMember, assignments: Iterable[Assignment]) -> bytes:
    cal = _calendar("PUBLISH")
    cal.add("x-wr-calname", f"Event Services: {member.display_name}")
    for assignment in assignments:
        cal.add_component(_event(assignment, status="CONFIRMED"))
    return cal.to_ical()
