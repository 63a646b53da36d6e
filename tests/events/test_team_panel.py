"""The organiser's team panel: names, roles, initials and whether each accepted; the
rehearsal with the technical lead at an offered time only, never twice, never over the
lead's other work; another organisation's webinar is a 404."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from events.models import Assignment
from events.selectors import team as team_selectors
from events.services import invitations
from tests.conftest import hold
from tests.events.staffing_helpers import add_member
from webinars import services
from webinars.models import AuditEntry, Package

pytestmark = [pytest.mark.django_db, pytest.mark.own_roster]


def _at(hour: int, days: int = 10) -> datetime:
    day = (timezone.now() + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, 0)


@pytest.fixture
def team(db):
    return {
        "producer": add_member("Ada Lovelace", ["producer"]),
        # The lead works 09:00-17:00 UTC only.
        "lead": add_member("Tess van der Lead", ["technical_lead"], hours=("09:00", "17:00")),
    }


@pytest.fixture
def webinar(organiser, catalogue, team, django_capture_on_commit_callbacks):
    package = Package.objects.get(code="50k")
    booked = hold(organiser, package, start_local=_at(14), timezone_name="UTC")
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_booking(booked, actor=None)
    mail.outbox.clear()
    return booked


def _panel(client, webinar) -> str:
    page = client.get(reverse("webinars:detail", args=[webinar.code]))
    assert page.status_code == 200
    body = page.content.decode()
    return body.split('id="team-panel"')[1]


def test_the_panel_shows_names_roles_initials_and_who_accepted(client, organiser, webinar, team):
    client.force_login(organiser)
    panel = _panel(client, webinar)
    assert "Ada Lovelace" in panel and "Producer" in panel
    assert "Tess van der Lead" in panel and "Technical lead" in panel
    assert '<span class="avatar" aria-hidden="true">AL</span>' in panel
    assert '<span class="avatar" aria-hidden="true">TL</span>' in panel
    assert panel.count(">pending</span>") == 2
    invitations.accept_assignment(webinar.assignments.get(staff=team["producer"]))
    panel = _panel(client, webinar)
    assert panel.count(">accepted</span>") == 1 and panel.count(">pending</span>") == 1


def test_another_organisations_webinar_is_a_404(client, outsider, webinar):
    client.force_login(outsider)
    assert client.get(reverse("webinars:detail", args=[webinar.code])).status_code == 404
    slot = team_selectors.rehearsal_slots(
        webinar, webinar.assignments.get(role="technical_lead").staff_id
    )[0]
    refused = client.post(
        reverse("events:book_rehearsal", args=[webinar.code]), {"starts_at": slot.isoformat()}
    )
    assert refused.status_code == 404
    assert not Assignment.objects.filter(kind="rehearsal").exists()


def test_rehearsal_times_are_only_when_the_lead_is_free(webinar, team):
    slots = team_selectors.rehearsal_slots(webinar, team["lead"].pk)
    assert slots
    prep = webinar.start_at - timedelta(minutes=60)
    for start in slots:
        assert start.tzinfo is not None and start.minute in (0, 30)
        assert webinar.start_at - timedelta(days=7) <= start
        # On shift for the whole 30 minutes, and the rest before the event's preparation.
        utc = start.astimezone(UTC)
        assert utc.hour >= 9 and utc + timedelta(minutes=30) <= utc.replace(hour=17, minute=0)
        assert start + timedelta(minutes=30 + 60) <= prep
    # The event day: 09:00 to 11:30 fit before the 13:00 preparation (rest included).
    day = webinar.start_at.date()
    same_day = [s.astimezone(UTC).strftime("%H:%M") for s in slots if s.date() == day]
    assert same_day == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]


def test_booking_a_rehearsal_blocks_the_lead_and_sends_the_calendar_invitations(
    client, organiser, webinar, team, django_capture_on_commit_callbacks
):
    client.force_login(organiser)
    url = reverse("events:book_rehearsal", args=[webinar.code])
    # A time that is not offered (the lead is off shift at 03:00): 400, nothing booked.
    night = datetime.combine(webinar.start_at.date() - timedelta(days=1), datetime.min.time(), UTC)
    night = night.replace(hour=3)
    refused = client.post(url, {"starts_at": night.isoformat()})
    assert refused.status_code == 400 and "not one of the offered" in refused.content.decode()
    assert client.post(url, {"starts_at": "tomorrow"}).status_code == 400
    assert not Assignment.objects.filter(kind="rehearsal").exists()
    slot = team_selectors.rehearsal_slots(webinar, team["lead"].pk)[0]
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"starts_at": slot.isoformat()})
    assert done.status_code == 302
    rehearsal = Assignment.objects.get(kind="rehearsal")
    assert (rehearsal.staff, rehearsal.window.lower, rehearsal.status) == (
        team["lead"],
        slot,
        "confirmed",
    )
    assert rehearsal.window.upper == slot + timedelta(minutes=30)
    assert AuditEntry.objects.filter(webinar=webinar, action="staffing.rehearsal_booked").exists()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [organiser.email, team["lead"].user.email]
    )
    for message in mail.outbox:
        (attachment,) = message.attachments
        cal = Calendar.from_ical(attachment[1])
        (event,) = cal.walk("VEVENT")
        assert str(cal["method"]) == "REQUEST"
        assert event.decoded("dtstart") == slot
        assert event.decoded("dtend") == slot + timedelta(minutes=30)
        attendees = {str(a) for a in event.get("attendee")}
        assert attendees == {f"mailto:{organiser.email}", f"mailto:{team['lead'].user.email}"}
    # The slot is gone, and a second rehearsal is refused.
    assert slot not in team_selectors.rehearsal_slots(webinar, team["lead"].pk)
    later = team_selectors.rehearsal_slots(webinar, team["lead"].pk)[-1]
    again = client.post(url, {"starts_at": later.isoformat()})
    assert again.status_code == 409
    assert Assignment.objects.filter(kind="rehearsal").count() == 1
    assert "Booked with Tess van der Lead" in _panel(client, webinar)


def test_the_database_refuses_a_rehearsal_over_the_leads_other_work(webinar, team):
    lead_work = webinar.assignments.get(role="technical_lead")
    with pytest.raises(IntegrityError):
        Assignment.objects.create(
            webinar=webinar,
            staff=team["lead"],
            role="technical_lead",
            kind="rehearsal",
            status="confirmed",
            window=(lead_work.window.lower, lead_work.window.lower + timedelta(minutes=30)),
            blocked=(lead_work.window.lower, lead_work.window.lower + timedelta(minutes=90)),
        )


def test_another_webinar_cannot_take_the_leads_rehearsal_time(
    client, organiser, webinar, team, django_capture_on_commit_callbacks
):
    client.force_login(organiser)
    slot = team_selectors.rehearsal_slots(webinar, team["lead"].pk)[0]
    client.post(
        reverse("events:book_rehearsal", args=[webinar.code]), {"starts_at": slot.isoformat()}
    )
    # A second webinar the same lead works, later the same week.
    other = hold(
        organiser, webinar.package, start_local=_at(14, days=11), timezone_name="UTC", title="Two"
    )
    services.confirm_booking(other, actor=None)
    assert other.assignments.get(role="technical_lead").staff == team["lead"]
    other_slots = team_selectors.rehearsal_slots(other, team["lead"].pk)
    assert slot not in other_slots
    refused = client.post(
        reverse("events:book_rehearsal", args=[other.code]), {"starts_at": slot.isoformat()}
    )
    assert refused.status_code == 400
    assert Assignment.objects.filter(kind="rehearsal").count() == 1
