"""The workload report: hours of active work per person per month, linked from the staff
members' changelist, for staff only."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from events.models import Assignment
from tests.conftest import hold
from tests.events.staffing_helpers import add_member
from webinars import services

pytestmark = [pytest.mark.django_db, pytest.mark.own_roster]


def _work(webinar, member, start: datetime, minutes: int, status: str = "confirmed") -> None:
    Assignment.objects.create(
        webinar=webinar,
        staff=member,
        role="producer",
        status=status,
        window=(start, start + timedelta(minutes=minutes)),
        blocked=(start, start + timedelta(minutes=minutes + 60)),
    )


def test_hours_per_person_per_month(client, staff, organiser, package_10k):
    ada = add_member("Ada Producer", ["producer"])
    ben = add_member("Ben Producer", ["producer"])
    webinar = hold(organiser, package_10k)
    services.cancel_booking(webinar, actor=None)  # its own team is released: not counted
    _work(webinar, ada, datetime(2031, 3, 2, 10, tzinfo=UTC), 180)
    _work(webinar, ada, datetime(2031, 3, 20, 10, tzinfo=UTC), 90)
    _work(webinar, ada, datetime(2031, 4, 1, 10, tzinfo=UTC), 30)  # a rehearsal-length slot
    _work(webinar, ben, datetime(2031, 3, 5, 10, tzinfo=UTC), 600, status="released")
    client.force_login(staff)
    changelist = client.get(reverse("admin:events_staffmember_changelist")).content.decode()
    assert reverse("events:staff_workload") in changelist
    page = client.get(reverse("events:staff_workload"), {"year": 2031})
    assert page.status_code == 200
    table = page.content.decode().split('id="workload"')[1]
    ada_row = table.split("<th>Ada Producer</th>")[1].split("</tr>")[0]
    cells = [c.split("</td>")[0] for c in ada_row.split("<td>")[1:]]
    assert cells[2] == "4.50" and cells[3] == "0.50" and cells[0] == "0"
    assert cells[-1] == "<strong>5</strong>"
    ben_row = table.split("<th>Ben Producer</th>")[1].split("</tr>")[0]
    assert "<strong>0</strong>" in ben_row  # released work does not count


def test_only_staff_and_a_bad_year_is_a_400(client, staff, organiser):
    client.force_login(organiser)
    assert client.get(reverse("events:staff_workload")).status_code == 302  # to the admin login
    client.force_login(staff)
    assert client.get(reverse("events:staff_workload"), {"year": "20x1"}).status_code == 400
    assert client.get(reverse("events:staff_workload"), {"year": "1999"}).status_code == 400
    assert client.get(reverse("events:staff_workload")).status_code == 200
