"""No overselling under concurrency, on PostgreSQL with real connections per thread."""

import pytest
from django.db import connection
from django.db.models import Max

from tests.conftest import hold, race
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
