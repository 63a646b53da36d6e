"""The team takes part in the booking: the quote says when no team is free and offers the
nearest times where fleet and team fit; a hold places the team with the fleet slots or
takes nothing; expiry and cancellation release both; confirmation keeps the team."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from events.models import Assignment
from events.selectors.staffing import event_window
from tests.conftest import hold
from tests.events.staffing_helpers import add_member
from webinars import selectors, services
from webinars.errors import TeamUnavailableError
from webinars.models import AuditEntry, FleetReservation, FleetSlot, Webinar
from webinars.rules import build_request

pytestmark = [pytest.mark.django_db, pytest.mark.own_roster]


def _day(days: int = 10):
    return (timezone.now() + timedelta(days=days)).date()


def _at(hour: int, minute: int = 0, days: int = 10) -> datetime:
    day = _day(days)
    return datetime(day.year, day.month, day.day, hour, minute)


def _request(package, start: datetime, duration: int = 90):
    return build_request(
        package=package,
        start_local=start,
        timezone_name="UTC",
        duration_minutes=duration,
        preset="custom",
        custom_split={"us-east": 10000},
    )


@pytest.fixture
def day_shift_producer(db):
    """One producer working 09:00-17:00 UTC every day."""
    return add_member("Pat Producer", ["producer"], hours=("09:00", "17:00"))


def test_quote_says_no_team_and_offers_the_nearest_times_where_fleet_and_team_fit(
    day_shift_producer, package_10k
):
    quote = selectors.quote_webinar(_request(package_10k, _at(3)))
    assert not quote.available
    assert quote.full_regions == []
    assert quote.refusals == ["no Event Services team free at that time"]
    # A 90-minute event needs 09:00-17:00 to hold 60 min before and 30 min after it:
    # starts from 10:00 to 15:00. Nearest to 03:00: 15:00 and 14:45 the day before,
    # 10:00 and 10:15 the same day.
    day_before = _at(0, days=9)
    assert [a.replace(tzinfo=None) for a in quote.alternatives] == [
        day_before.replace(hour=14, minute=45),
        day_before.replace(hour=15),
        _at(10),
        _at(10, 15),
    ]
    for start in quote.alternatives:
        assert selectors.quote_webinar(_request(package_10k, start.replace(tzinfo=None))).available


def test_alternatives_skip_times_where_the_team_is_taken(
    organiser, day_shift_producer, package_10k
):
    hold(organiser, package_10k, start_local=_at(10), timezone_name="UTC")
    # 10:00 is now taken: the producer works 09:00-12:00 and rests until 13:00.
    quote = selectors.quote_webinar(_request(package_10k, _at(10)))
    assert quote.refusals == ["no Event Services team free at that time"]
    later = [a for a in quote.alternatives if a.replace(tzinfo=None) > _at(10)]
    assert [a.replace(tzinfo=None) for a in later] == [_at(14), _at(14, 15)]


def test_the_quote_page_and_the_api_show_the_reason(
    client, organiser, day_shift_producer, catalogue
):
    client.force_login(organiser)
    form = {
        "title": "Night show",
        "package": "10k",
        "start": _at(3).strftime("%Y-%m-%dT%H:%M"),
        "timezone": "UTC",
        "duration_minutes": 90,
        "audience": "custom",
        "share_us-east": "100",
    }
    body = client.post(reverse("webinars:quote"), form).content.decode()
    assert "Not available then: no Event Services team free at that time." in body
    assert 'id="alternatives"' in body
    assert "disabled" in body.split('id="hold-action"')[1].split("</div>")[0]
    api = APIClient()
    api.force_authenticate(organiser)
    payload = {
        "title": "Night show",
        "package": "10k",
        "start": _at(3).strftime("%Y-%m-%dT%H:%M"),
        "timezone": "UTC",
        "duration_minutes": 90,
        "audience": "custom",
        "split": {"us-east": "100"},
    }
    quote = api.post(reverse("api-quote"), payload, format="json").json()
    assert quote["available"] is False
    assert quote["refusals"] == ["no Event Services team free at that time"]
    assert len(quote["alternatives"]) == 4
    refused = api.post(reverse("api-webinars"), payload, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "no_team"
    assert not Webinar.objects.exists()


def test_a_hold_without_a_team_takes_nothing(organiser, day_shift_producer, package_10k):
    with pytest.raises(TeamUnavailableError) as refused:
        hold(organiser, package_10k, start_local=_at(3), timezone_name="UTC")
    assert "no Event Services team is free" in refused.value.message
    # The fleet slots taken before the staff check were rolled back with the rest.
    assert not Webinar.objects.exists()
    assert not FleetReservation.objects.exists()
    assert set(FleetSlot.objects.values_list("used", flat=True)) <= {0}
    assert not Assignment.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="webinar.").exists()


def test_hold_places_a_tentative_team_and_confirmation_keeps_it(
    organiser, day_shift_producer, package_10k
):
    webinar = hold(organiser, package_10k, start_local=_at(12), timezone_name="UTC")
    assignment = webinar.assignments.get()
    assert (assignment.staff, assignment.role, assignment.status) == (
        day_shift_producer,
        "producer",
        "tentative",
    )
    window = event_window(webinar.start_at, webinar.duration_minutes)
    assert (assignment.window.lower, assignment.window.upper) == (window.start, window.end)
    assert assignment.blocked.upper == window.end + timedelta(minutes=60)
    assert assignment.reason.startswith("Chosen as producer from 1 free")
    services.confirm_booking(webinar, actor=None)
    assignment.refresh_from_db()
    assert assignment.status == "confirmed"
    # One audit row per state change: the team is part of the hold and the confirmation.
    held = AuditEntry.objects.get(webinar=webinar, action="webinar.held")
    assert held.data["event-services-team"]["team"] == [
        {"role": "producer", "staff": "Pat Producer", "reason": assignment.reason}
    ]
    confirmed = AuditEntry.objects.get(webinar=webinar, action="webinar.confirmed")
    assert confirmed.data["event-services-team"] == {"confirmed": 1}


@pytest.mark.parametrize("ending", ["expire", "cancel"])
def test_expiry_and_cancellation_release_the_team(
    organiser, day_shift_producer, package_10k, ending
):
    webinar = hold(organiser, package_10k, start_local=_at(12), timezone_name="UTC")
    if ending == "expire":
        services.expire_hold(webinar, actor=None)
    else:
        services.cancel_booking(webinar, actor=None)
    assert webinar.assignments.get().status == "released"
    ended = AuditEntry.objects.get(
        webinar=webinar, action=f"webinar.{ending}d" if ending == "expire" else "webinar.cancelled"
    )
    assert ended.data["event-services-team"] == {"released": 1}
    # The producer is free for the same hour again.
    again = hold(organiser, package_10k, start_local=_at(12), timezone_name="UTC")
    assert again.assignments.get().staff == day_shift_producer


def test_a_late_payment_after_expiry_needs_a_team_again(organiser, day_shift_producer, package_10k):
    webinar = hold(organiser, package_10k, start_local=_at(12), timezone_name="UTC")
    services.expire_hold(webinar, actor=None)
    other = hold(organiser, package_10k, start_local=_at(12), timezone_name="UTC", title="Other")
    # The payment arrives late: the fleet is free but the only producer is now taken.
    with pytest.raises(TeamUnavailableError):
        services.confirm_booking(webinar, actor=None)
    webinar.refresh_from_db()
    assert webinar.status == "expired"
    assert webinar.reservations.filter(released_at__isnull=True).count() == 0
    services.cancel_booking(other, actor=None)
    services.confirm_booking(webinar, actor=None)
    assert webinar.assignments.get(status="confirmed").staff == day_shift_producer
