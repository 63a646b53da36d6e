"""One conversion from the local start an organiser types to the UTC instant stored, the
same through every entry point: the booking form, the live quote, the API quote, the API
booking and the service."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import hold, local_start
from webinars.errors import BookingError
from webinars.models import AuditEntry, FleetSlot, Webinar

ENTRY_POINTS = ["service", "form", "live_quote", "api_quote", "api_create"]


def _clock_change(tz: str, *, back: bool) -> tuple[datetime, timedelta, timedelta]:
    """The next change of the clocks in `tz` (back in autumn, or forward in spring) at least
    ten days ahead: its UTC instant and the UTC offsets before and after it."""
    zone = ZoneInfo(tz)
    moment = (timezone.now() + timedelta(days=10)).replace(minute=0, second=0, microsecond=0)
    before = moment.astimezone(zone).utcoffset()
    for _ in range(2 * 366 * 24):
        moment += timedelta(hours=1)
        after = moment.astimezone(zone).utcoffset()
        if after != before and (after < before) == back:
            return moment, before, after
        before = after
    raise AssertionError(f"{tz} has no clock change")


def _repeated_hour(tz: str) -> tuple[datetime, datetime]:
    """A wall-clock time that happens twice in `tz`, and the first of its two instants."""
    change, before, after = _clock_change(tz, back=True)
    local = (change + after + (before - after) / 2).replace(tzinfo=None)
    return local, (local - before).replace(tzinfo=UTC)


def _skipped_time(tz: str) -> datetime:
    change, before, after = _clock_change(tz, back=False)
    return (change + before + (after - before) / 2).replace(tzinfo=None)


def _body(local: datetime, tz: str, title: str) -> dict[str, object]:
    return {
        "title": title,
        "package": "10k",
        "start": local.strftime("%Y-%m-%dT%H:%M"),
        "timezone": tz,
        "duration_minutes": 90,
        "audience": "north-america",
    }


def _book_through(entry: str, user, package, local: datetime, tz: str):
    """Book or quote `local` in `tz` through one entry point. Returns the UTC start the
    product computed, or the refusal (status, message)."""
    title = f"Via {entry}"
    if entry == "service":
        try:
            return hold(user, package, title=title, start_local=local, timezone_name=tz).start_at
        except BookingError as exc:
            return exc.http_status, exc.message
    if entry in ("form", "live_quote"):
        client = Client()
        client.force_login(user)
        if entry == "form":
            response = client.post(reverse("webinars:book"), _body(local, tz, title))
            if response.status_code != 302:
                return response.status_code, response.content.decode()
            return Webinar.objects.get(title=title).start_at
        response = client.post(
            reverse("webinars:quote"), _body(local, tz, title), HTTP_HX_REQUEST="true"
        )
        if response.status_code != 200:
            return response.status_code, response.content.decode()
        return response.context["quote"].request.start_at
    client = APIClient()
    client.force_authenticate(user)
    url = reverse("api-quote" if entry == "api_quote" else "api-webinars")
    response = client.post(url, _body(local, tz, title), format="json")
    if response.status_code not in (200, 201):
        return response.status_code, response.json()["detail"]
    start_at = datetime.fromisoformat(response.json()["start_at"])
    if entry == "api_create":
        assert Webinar.objects.get(title=title).start_at == start_at
    return start_at


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_local_start_in_a_non_utc_zone_is_stored_as_its_utc_instant(
    organiser, package_10k, entry
):
    local = local_start(days=20, hour=15, tz="Asia/Tokyo")
    start_at = _book_through(entry, organiser, package_10k, local, "Asia/Tokyo")
    # Tokyo is UTC+9 all year: 15:00 there is 06:00Z, never 15:00Z.
    assert start_at == datetime(local.year, local.month, local.day, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_the_repeated_autumn_hour_is_read_as_its_first_occurrence_everywhere(
    organiser, package_10k, entry, settings
):
    settings.BOOKING_HORIZON_DAYS = 800  # the next clock change may be a year away
    local, first = _repeated_hour("Europe/Paris")
    start_at = _book_through(entry, organiser, package_10k, local, "Europe/Paris")
    # 02:30 happens at 00:30Z (summer time) and again at 01:30Z: the first is the one.
    assert start_at == first
    assert start_at.astimezone(ZoneInfo("Europe/Paris")).replace(tzinfo=None) == local


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_time_the_clocks_skip_is_refused_everywhere_and_nothing_is_written(
    organiser, package_10k, entry, settings
):
    settings.BOOKING_HORIZON_DAYS = 800
    local = _skipped_time("Europe/Paris")
    audit_before = AuditEntry.objects.count()
    status, message = _book_through(entry, organiser, package_10k, local, "Europe/Paris")
    assert status == 400
    assert "does not exist in Europe/Paris" in message
    assert not Webinar.objects.exists() and not FleetSlot.objects.exists()
    assert AuditEntry.objects.count() == audit_before


def test_the_api_reads_a_start_with_an_offset_as_the_instant_it_names(organiser, catalogue):
    client = APIClient()
    client.force_authenticate(organiser)
    local = local_start(days=20, hour=15, tz="Asia/Tokyo")
    body = _body(local, "Asia/Tokyo", "Offset") | {
        "start": local.strftime("%Y-%m-%dT%H:%M") + "+02:00"
    }
    response = client.post(reverse("api-webinars"), body, format="json")
    assert response.status_code == 201
    # 15:00+02:00 is 13:00Z whatever the webinar's zone; the zone only says how to show it.
    expected = datetime(local.year, local.month, local.day, 13, 0, tzinfo=UTC)
    assert datetime.fromisoformat(response.json()["start_at"]) == expected
    assert response.json()["time_zone"] == "Asia/Tokyo"
