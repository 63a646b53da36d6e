"""No double-booking under concurrency: many holds race for the same hour with fewer
people than holds. PostgreSQL (row locks in id order, the exclusion constraint) decides;
every confirmed booking has its whole team and nobody works two events at once."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from events.models import Assignment, StaffMember
from tests.conftest import hold, race
from tests.events.staffing_helpers import add_member
from webinars import services
from webinars.errors import TeamUnavailableError
from webinars.models import Package, Webinar

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.own_roster, pytest.mark.slow]

OVERLAPS_SQL = """
SELECT count(*) FROM events_assignment a JOIN events_assignment b
  ON a.staff_id = b.staff_id AND a.id < b.id AND a.blocked && b.blocked
WHERE a.status IN ('tentative', 'confirmed') AND b.status IN ('tentative', 'confirmed')
"""


def _start() -> datetime:
    day = (timezone.now() + timedelta(days=10)).date()
    return datetime(day.year, day.month, day.day, 15, 0)


def test_many_holds_for_one_hour_never_double_book_anyone(organiser, catalogue):
    for i in range(3):
        add_member(f"Producer {i}", ["producer"])
    for i in range(2):
        add_member(f"Lead {i}", ["technical_lead"])
    for i in range(3):
        add_member(f"Both {i}", ["producer", "technical_lead"])
    packages = {code: Package.objects.get(code=code) for code in ("10k", "50k")}

    def buyer(i: int) -> str:
        code = "50k" if i % 2 else "10k"
        try:
            hold(
                organiser,
                packages[code],
                title=f"Race {i}",
                start_local=_start(),
                timezone_name="UTC",
            )
        except TeamUnavailableError:
            return f"{code}:no team"
        return f"{code}:ok"

    outcomes = race(16, buyer)

    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert "10k:no team" in outcomes or "50k:no team" in outcomes  # fewer people than holds
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPS_SQL)
        assert cursor.fetchone()[0] == 0
    held = list(Webinar.objects.select_related("package"))
    assert len(held) == outcomes.count("10k:ok") + outcomes.count("50k:ok")
    for webinar in held:
        services.confirm_booking(webinar, actor=None)
    for webinar in held:
        team: dict[str, int] = {}
        for role in webinar.assignments.filter(status="confirmed").values_list("role", flat=True):
            team[role] = team.get(role, 0) + 1
        assert team == webinar.package.staff_roles, webinar.code
    # One hour for all: nobody was refused while a producer was free.
    if "10k:no team" in outcomes:
        taken = set(Assignment.objects.values_list("staff_id", flat=True))
        producers = StaffMember.objects.filter(roles__contains=["producer"])
        assert set(producers.values_list("id", flat=True)) <= taken
