"""The unpaid-hold limit holds under concurrency, on PostgreSQL with a connection per
thread: simultaneous holds by one organisation queue on the organisation's row lock."""

import pytest
from django.db import connection

from tests.conftest import hold, race
from webinars.errors import BookingError
from webinars.models import AuditEntry, FleetReservation, Webinar

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_20_simultaneous_holds_by_one_organisation_give_exactly_the_limit(
    organiser, package_10k, settings
):
    assert connection.vendor == "postgresql"
    settings.MAX_UNPAID_HOLDS = 5

    def buyer(i: int) -> str:
        try:
            hold(organiser, package_10k, title=f"Hold {i}")
        except BookingError as exc:
            assert exc.http_status == 400
            assert "already has 5 unpaid holds" in exc.message
            return exc.code
        return "held"

    outcomes = race(20, buyer)

    assert sorted(outcomes) == ["held"] * 5 + ["too_many_holds"] * 15, outcomes
    assert Webinar.objects.filter(status="held").count() == 5
    assert FleetReservation.objects.values("webinar").distinct().count() == 5
    assert AuditEntry.objects.filter(action="webinar.held").count() == 5
