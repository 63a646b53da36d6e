"""No overselling under concurrency, on PostgreSQL with real connections per thread."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Max

from tests.conftest import hold, local_start, race
from webinars.errors import CapacityError
from webinars.models import FleetSlot, Region, Webinar

pytestmark = pytest.mark.django_db(transaction=True)


def test_50_buyers_race_for_the_last_capacity_and_exactly_those_that_fit_win(
    organiser, package_10k
):
    assert connection.vendor == "postgresql"
    # 13 nodes per 10k hold; room for exactly 7 of them.
    Region.objects.filter(code="us-east").update(fleet_size=13 * 7 + 5)

    def buyer(i: int) -> str:
        try:
            hold(organiser, package_10k, title=f"Buyer {i}")
        except CapacityError as exc:
            assert "no longer available" in exc.message
            return "full"
        return "ok"

    outcomes = race(50, buyer)

    assert sorted(set(outcomes)) == ["full", "ok"], outcomes
    assert outcomes.count("ok") == 7
    assert outcomes.count("full") == 43
    assert Webinar.objects.count() == 7
    assert FleetSlot.objects.aggregate(m=Max("used"))["m"] == 91


def test_multi_region_holds_in_opposite_orders_never_deadlock(organiser, package_10k):
    Region.objects.update(fleet_size=10_000)

    def buyer(i: int) -> str:
        split = {"us-east": 5000, "eu-west": 5000} if i % 2 else {"eu-west": 5000, "us-east": 5000}
        hold(organiser, package_10k, preset="custom", custom_split=split)
        return "ok"

    outcomes = race(20, buyer)
    assert outcomes == ["ok"] * 20, outcomes
    assert Webinar.objects.count() == 20


def test_first_holds_of_overlapping_windows_never_deadlock(organiser, package_10k):
    # Windows a quarter of an hour apart, on slots that do not exist yet: each buyer
    # creates some rows while others lock the rows that exist.
    Region.objects.update(fleet_size=10_000)
    start = local_start(days=12, hour=15)

    def buyer(i: int) -> str:
        hold(organiser, package_10k, start_local=start + timedelta(minutes=15 * (i % 4)))
        return "ok"

    for _ in range(3):
        outcomes = race(16, buyer)
        assert outcomes == ["ok"] * 16, outcomes
        start += timedelta(days=1)
