from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests.conftest import hold, local_start
from webinars.errors import BookingError
from webinars.models import AuditEntry, FleetSlot, Webinar


def _code(exc_info) -> str:
    return exc_info.value.code


@pytest.mark.parametrize(
    ("overrides", "code", "text"),
    [
        ({"duration_minutes": 20}, "duration_range", "between 30 and 240"),
        ({"duration_minutes": 241}, "duration_range", "between 30 and 240"),
        ({"start_local": datetime(2020, 1, 1, 10, 0)}, "start_in_past", "in the past"),
        ({"start_local": local_start(days=1)}, "lead_time", "2 days' notice"),
        ({"timezone_name": "Mars/Olympus"}, "unknown_timezone", "Mars/Olympus"),
        ({"custom_split": {"us-east": 6000, "eu-west": 3000}}, "split_sum", "it adds up to 90%"),
        ({"custom_split": {}}, "split_empty", "at least one"),
        ({"custom_split": {"moon-1": 10000}}, "unknown_region", "moon-1"),
        ({"preset": "atlantis"}, "unknown_preset", "atlantis"),
    ],
)
def test_bad_requests_get_a_specific_error_and_change_nothing(
    organiser, package_10k, overrides, code, text
):
    audit_before = AuditEntry.objects.count()
    with pytest.raises(BookingError) as exc_info:
        hold(organiser, package_10k, **overrides)
    assert _code(exc_info) == code
    assert text in exc_info.value.message
    assert exc_info.value.http_status == 400
    assert not Webinar.objects.exists()
    assert not FleetSlot.objects.exists()
    assert AuditEntry.objects.count() == audit_before


def test_lead_time_of_1m_package_is_14_days(organiser, package_1m):
    with pytest.raises(BookingError, match="14 days' notice"):
        hold(organiser, package_1m, start_local=local_start(days=13))
    assert hold(organiser, package_1m, start_local=local_start(days=15)).status == "held"


def test_start_is_stored_in_utc_and_displayed_in_the_chosen_zone(organiser, package_10k):
    webinar = hold(
        organiser,
        package_10k,
        start_local=local_start(hour=9, tz="Asia/Tokyo"),
        timezone_name="Asia/Tokyo",
    )
    assert webinar.start_at.utcoffset() == timedelta(0)
    assert webinar.start_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo")).hour == 9
    assert webinar.time_zone == "Asia/Tokyo"
    assert webinar.start_at > timezone.now()


def test_a_time_skipped_by_daylight_saving_is_refused(organiser, package_10k):
    from datetime import date

    year = timezone.now().year + 1
    # The second Sunday of March: New York skips 02:00-03:00.
    march = next(date(year, 3, d) for d in range(8, 15) if date(year, 3, d).weekday() == 6)
    with pytest.raises(BookingError) as exc_info:
        hold(organiser, package_10k, start_local=datetime(march.year, 3, march.day, 2, 30))
    assert exc_info.value.code == "nonexistent_time"
    assert "does not exist in America/New_York" in exc_info.value.message


def test_unpaid_holds_per_organisation_are_limited(organiser, package_10k, settings):
    settings.MAX_UNPAID_HOLDS = 2
    hold(organiser, package_10k, title="One")
    hold(organiser, package_10k, title="Two")
    with pytest.raises(BookingError) as exc_info:
        hold(organiser, package_10k, title="Three")
    assert exc_info.value.code == "too_many_holds"
    assert Webinar.objects.count() == 2
