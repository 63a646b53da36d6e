"""No overselling under concurrency, on PostgreSQL with real connections per thread."""

import threading

import pytest
from django.db import connection, connections
from django.db.models import Max

from tests.conftest import hold
from webinars.errors import CapacityError
from webinars.models import FleetSlot, Region, Webinar

pytestmark = pytest.mark.django_db(transaction=True)


def test_50_buyers_race_for_the_last_capacity_and_exactly_those_that_fit_win(
    organiser, package_10k
):
    assert connection.vendor == "postgresql"
    # 13 nodes per 10k hold; room for exactly 7 of them.
    Region.objects.filter(code="us-east").update(fleet_size=13 * 7 + 5)
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def buyer(i: int) -> None:
        try:
            barrier.wait()
            hold(organiser, package_10k, title=f"Buyer {i}")
            result = "ok"
        except CapacityError as exc:
            assert "no longer available" in exc.message
            result = "full"
        except Exception as exc:
            result = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert sorted(set(outcomes)) == ["full", "ok"], outcomes
    assert outcomes.count("ok") == 7
    assert outcomes.count("full") == 43
    assert Webinar.objects.count() == 7
    assert FleetSlot.objects.aggregate(m=Max("used"))["m"] == 91


def test_multi_region_holds_in_opposite_orders_never_deadlock(organiser, package_10k):
    Region.objects.update(fleet_size=10_000)
    errors: list[str] = []
    barrier = threading.Barrier(20)

    def buyer(i: int) -> None:
        split = {"us-east": 5000, "eu-west": 5000} if i % 2 else {"eu-west": 5000, "us-east": 5000}
        try:
            barrier.wait()
            hold(organiser, package_10k, preset="custom", custom_split=split)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert Webinar.objects.count() == 20
