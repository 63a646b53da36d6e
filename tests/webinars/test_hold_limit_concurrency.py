"""The unpaid-hold limit holds under concurrency, on PostgreSQL with a connection per
thread: simultaneous holds by one organisation queue on the organisation's row lock."""

import threading

import pytest
from django.db import connection, connections

from tests.conftest import hold
from webinars.errors import BookingError
from webinars.models import AuditEntry, FleetReservation, Webinar

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_20_simultaneous_holds_by_one_organisation_give_exactly_the_limit(
    organiser, package_10k, settings
):
    assert connection.vendor == "postgresql"
    settings.MAX_UNPAID_HOLDS = 5
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def buyer(i: int) -> None:
        try:
            barrier.wait()
            hold(organiser, package_10k, title=f"Hold {i}")
            result = "held"
        except BookingError as exc:
            assert exc.http_status == 400
            assert "already has 5 unpaid holds" in exc.message
            result = exc.code
        except Exception as exc:
            result = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert sorted(outcomes) == ["held"] * 5 + ["too_many_holds"] * 15, outcomes
    assert Webinar.objects.filter(status="held").count() == 5
    assert FleetReservation.objects.values("webinar").distinct().count() == 5
    assert AuditEntry.objects.filter(action="webinar.held").count() == 5
