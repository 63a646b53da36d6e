"""The staff calendar week view: a week's webinars, assignments and rehearsals per day,
filtered by person and role, in UTC or the viewer's zone; staff with the view permission
only; a bad parameter is a 400 with the reason."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from events.models import Assignment, StaffMember
from tests.conftest import hold
from tests.events.staffing_helpers import add_member
from webinars import services
from webinars.models import User, Webinar

pytestmark = [pytest.mark.django_db, pytest.mark.own_roster]
START = datetime(2031, 3, 5, 10, tzinfo=UTC)  # a Wednesday, ISO week 2031-W10
URL = reverse("events:staff_week")


def _work(webinar, member: StaffMember, start: datetime, role: str, kind: str = "event") -> None:
    minutes = 30 if kind == "rehearsal" else 180
    Assignment.objects.create(
        webinar=webinar,
        staff=member,
        role=role,
        kind=kind,
        status="confirmed",
        window=(start, start + timedelta(minutes=minutes)),
        blocked=(start, start + timedelta(minutes=minutes + 60)),
    )


@pytest.fixture
def week(organiser, package_10k):
    ada = add_member("Ada Producer", ["producer"])
    tom = add_member("Tom Lead", ["technical_lead"])
    add_member("Spare Moderator", ["moderator"])
    add_member("Spare Producer", ["producer"])
    webinar = hold(organiser, package_10k, title="Spring launch")
    services.cancel_booking(webinar, actor=None)  # its own team is released
    Webinar.objects.filter(pk=webinar.pk).update(start_at=START)
    webinar.refresh_from_db()
    _work(webinar, ada, START - timedelta(hours=1), "producer")
    _work(webinar, tom, START - timedelta(hours=1), "technical_lead")
    _work(webinar, tom, START - timedelta(days=2), "technical_lead", kind="rehearsal")
    _work(webinar, ada, START + timedelta(days=7), "producer")  # the next week
    return webinar, ada, tom


def _day(body: str, day: str) -> str:
    return body.split(f'id="day-{day}"')[1].split("</td>")[0]


def test_a_week_lists_events_assignments_and_rehearsals_per_day(client, staff, week):
    webinar, _ada, _tom = week
    client.force_login(staff)
    changelist = client.get(reverse("admin:events_assignment_changelist")).content.decode()
    assert URL in changelist
    response = client.get(URL, {"week": "2031-W10"})
    assert response.status_code == 200
    body = response.content.decode()
    wednesday = _day(body, "2031-03-05")
    assert "Spring launch" in wednesday and webinar.code in wednesday
    assert "Ada Producer · Producer · 03-05 09:00-03-05 12:00" in wednesday
    assert "Tom Lead · Technical lead" in wednesday
    monday = _day(body, "2031-03-03")
    assert "Rehearsal: Tom Lead · Technical lead · 10:00-10:30" in monday
    assert "Ada" not in monday and "Spring launch" not in _day(body, "2031-03-09")
    # Next week's work is one click away, this week's is not there.
    assert "week=2031-W11" in body and "week=2031-W09" in body
    nxt = client.get(URL, {"week": "2031-W11"}).content.decode()
    assert "Ada Producer · Producer · 03-12 10:00" in _day(nxt, "2031-03-12")


def test_filters_by_person_and_role_and_the_viewers_zone(client, staff, week):
    _webinar, ada, _tom = week
    client.force_login(staff)
    by_person = client.get(URL, {"week": "2031-W10", "staff": ada.pk}).content.decode()
    assert "Ada Producer ·" in by_person and "Tom Lead ·" not in by_person
    assert f"staff={ada.pk}" in by_person.split('id="week-next"')[0]  # kept when paging
    by_role = client.get(URL, {"week": "2031-W10", "role": "technical_lead"}).content.decode()
    assert "Tom Lead ·" in by_role and "Ada Producer ·" not in by_role
    # 09:00-12:00 UTC is 22:00-01:00 in Auckland (UTC+13): Wednesday night into Thursday.
    zoned = client.get(URL, {"week": "2031-W10", "tz": "Pacific/Auckland"}).content.decode()
    assert "Ada Producer · Producer · 03-05 22:00-03-06 01:00" in _day(zoned, "2031-03-05")
    assert "Ada Producer · Producer · 03-05 22:00-03-06 01:00" in _day(zoned, "2031-03-06")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"week": "2031-W60"}, "is not an ISO week"),
        ({"week": "tuesday"}, "is not an ISO week"),
        ({"week": "99999-W01"}, "is not an ISO week"),
        ({"tz": "Mars/Olympus"}, "Unknown time zone"),
        ({"staff": "abc"}, "no staff member"),
        ({"staff": "99999999999999999999999"}, "no staff member"),
        ({"role": "janitor"}, "Unknown role"),
    ],
)
def test_bad_parameters_are_a_400_with_the_reason(client, staff, week, params, message):
    client.force_login(staff)
    response = client.get(URL, params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_only_staff_with_the_view_permission(client, organiser, week):
    assert client.get(URL).status_code == 302  # to the admin login
    client.force_login(organiser)
    assert client.get(URL).status_code == 302
    plain = User.objects.create_user(email="intern@megawebinar.example", is_staff=True)
    client.force_login(plain)
    assert client.get(URL).status_code == 403
