"""Each staff member's secret calendar feed lists their own assignments and rehearsals;
an unknown token is a 404."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from events.models import StaffMember
from events.selectors import team as team_selectors
from events.services import rehearsals
from tests.conftest import hold
from tests.events.staffing_helpers import add_member
from webinars import services
from webinars.models import Package

pytestmark = [pytest.mark.django_db, pytest.mark.own_roster]


def _at(hour: int, days: int = 10) -> datetime:
    day = (timezone.now() + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, 0)


def test_the_feed_lists_the_members_own_work_and_nothing_else(client, organiser, catalogue):
    lead = add_member("Tess Lead", ["technical_lead"], hours=("09:00", "17:00"))
    producer = add_member("Ada Producer", ["producer"])
    webinar = hold(
        organiser, Package.objects.get(code="50k"), start_local=_at(14), timezone_name="UTC"
    )
    services.confirm_booking(webinar, actor=None)
    slot = team_selectors.rehearsal_slots(webinar, lead.pk)[0]
    rehearsal = rehearsals.book_rehearsal(webinar, actor=organiser, starts_at=slot)
    assert len(lead.calendar_token) >= 40 and lead.calendar_token != producer.calendar_token

    feed = client.get(reverse("events:staff_calendar", args=[lead.calendar_token]))
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(feed.content)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    work = webinar.assignments.get(staff=lead, kind="event")
    assert set(events) == {
        f"{work.code}@megawebinar.events",
        f"{rehearsal.code}@megawebinar.events",
    }
    assert events[f"{rehearsal.code}@megawebinar.events"].decoded("dtstart") == slot
    assert str(events[f"{rehearsal.code}@megawebinar.events"]["summary"]).startswith("Rehearsal")
    assert events[f"{work.code}@megawebinar.events"].decoded("dtstart") == work.window.lower

    other = Calendar.from_ical(
        client.get(reverse("events:staff_calendar", args=[producer.calendar_token])).content
    )
    (only,) = other.walk("VEVENT")
    assert str(only["uid"]).startswith(str(webinar.assignments.get(staff=producer).code))

    # Cancelled work leaves the feed.
    services.cancel_booking(webinar, actor=None)
    cal = Calendar.from_ical(
        client.get(reverse("events:staff_calendar", args=[lead.calendar_token])).content
    )
    assert cal.walk("VEVENT") == []


@pytest.mark.parametrize("token", ["nope", "A" * 43, "x" * 80])
def test_an_unknown_token_is_a_404(client, token):
    add_member("Tess Lead", ["technical_lead"])
    assert client.get(reverse("events:staff_calendar", args=[token])).status_code == 404


def test_an_inactive_members_feed_is_gone(client):
    member = add_member("Gone Away", ["producer"])
    StaffMember.objects.filter(pk=member.pk).update(is_active=False)
    assert (
        client.get(reverse("events:staff_calendar", args=[member.calendar_token])).status_code
        == 404
    )
