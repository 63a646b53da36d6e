"""Swap person: a lead replaces the person on one assignment with someone who passes the
assigner's rules, from the assignments list; a forged choice changes nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from events.models import Assignment, StaffMember
from tests.conftest import hold
from tests.events.staffing_helpers import add_leave, add_member
from webinars import services
from webinars.models import AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.own_roster]
START = datetime(2031, 3, 5, 10, tzinfo=UTC)


def _work(webinar, member: StaffMember, start: datetime, role: str = "producer") -> Assignment:
    return Assignment.objects.create(
        webinar=webinar,
        staff=member,
        role=role,
        status="confirmed",
        window=(start - timedelta(hours=1), start + timedelta(hours=2)),
        blocked=(start - timedelta(hours=1), start + timedelta(hours=3)),
        reason="Chosen by the assigner.",
    )


@pytest.fixture
def setup(organiser, package_10k):
    members = {
        name: add_member(name, roles)
        for name, roles in [
            ("Ada Producer", ["producer"]),
            ("Ben Producer", ["producer"]),
            ("Cleo Producer", ["producer"]),
            ("Dan Producer", ["producer"]),
            ("Eve Moderator", ["moderator"]),
            ("Fay Producer", ["producer"]),
        ]
    }
    add_member("Gus Nights", ["producer"], hours=("20:00", "06:00"))
    webinar = hold(organiser, package_10k)
    services.cancel_booking(webinar, actor=None)  # its own team is released: a clean slate
    assignment = _work(webinar, members["Ada Producer"], START)
    add_leave(members["Ben Producer"], START - timedelta(hours=5))
    _work(webinar, members["Cleo Producer"], START + timedelta(hours=3, minutes=30))  # rest gap
    members["Fay Producer"].is_active = False
    members["Fay Producer"].save()
    return webinar, assignment, members


def _swap_url(assignment: Assignment) -> str:
    return reverse("admin:events_assignment_swap", args=[assignment.pk])


def test_the_action_leads_to_the_eligible_people_with_the_assigners_reason(client, staff, setup):
    _webinar, assignment, _members = setup
    client.force_login(staff)
    changelist = reverse("admin:events_assignment_changelist")
    response = client.post(
        changelist, {"action": "swap_person", "_selected_action": [assignment.pk]}
    )
    assert response.status_code == 302 and response["Location"] == _swap_url(assignment)
    page = client.get(_swap_url(assignment)).content.decode()
    table = page.split('id="swap-options"')[1].split("</table>")[0]
    assert "Dan Producer" in table
    assert "Chosen as producer from 1 free" in table
    # On leave, overlapping within the rest gap, another role, inactive, off shift, and
    # the person who has it now: not offered.
    for name in ("Ben", "Cleo", "Eve", "Fay", "Gus", "Ada"):
        assert name not in table


def test_more_than_one_selected_is_refused_with_a_message(client, staff, setup):
    webinar, assignment, members = setup
    other = _work(webinar, members["Dan Producer"], START + timedelta(days=2))
    client.force_login(staff)
    response = client.post(
        reverse("admin:events_assignment_changelist"),
        {"action": "swap_person", "_selected_action": [assignment.pk, other.pk]},
        follow=True,
    )
    assert "Select exactly one assignment" in response.content.decode()


def test_a_swap_releases_the_old_person_places_the_new_one_and_is_audited(client, staff, setup):
    webinar, assignment, members = setup
    dan = members["Dan Producer"]
    client.force_login(staff)
    audits = AuditEntry.objects.count()
    response = client.post(_swap_url(assignment), {"staff": dan.pk}, follow=True)
    assert "Dan Producer now works this as Producer" in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.status == "released"
    new = Assignment.objects.get(staff=dan, status="confirmed")
    assert (new.webinar, new.role, new.window) == (webinar, "producer", assignment.window)
    assert new.reason.startswith("Swapped in for Ada Producer. Chosen as producer")
    assert AuditEntry.objects.count() == audits + 1
    entry = AuditEntry.objects.latest("id")
    assert entry.action == "staffing.assignment_swapped"
    assert entry.data["from"] == "Ada Producer" and entry.data["to"] == "Dan Producer"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Ben Producer", "on leave"),
        ("Cleo Producer", "other work within the rest gap"),
        ("Eve Moderator", "not a producer"),
        ("Fay Producer", "not active"),
        ("Gus Nights", "not on shift"),
    ],
)
def test_a_forged_swap_to_someone_ineligible_changes_nothing(client, staff, setup, name, why):
    _webinar, assignment, _members = setup
    target = StaffMember.objects.get(display_name=name)
    client.force_login(staff)
    before = (Assignment.objects.count(), AuditEntry.objects.count())
    response = client.post(_swap_url(assignment), {"staff": target.pk})
    assert response.status_code == 400
    body = response.content.decode()
    assert f"{name} cannot take this assignment" in body and why in body
    assert "Nothing was changed" in body
    assignment.refresh_from_db()
    assert assignment.status == "confirmed"
    assert (Assignment.objects.count(), AuditEntry.objects.count()) == before


def test_a_bad_choice_is_a_400_and_a_released_assignment_offers_nobody(client, staff, setup):
    _webinar, assignment, members = setup
    client.force_login(staff)
    assert client.post(_swap_url(assignment), {"staff": "x"}).status_code == 400
    assert client.post(_swap_url(assignment), {"staff": "999999"}).status_code == 400
    Assignment.objects.filter(pk=assignment.pk).update(status="released")
    assert 'id="swap-closed"' in client.get(_swap_url(assignment)).content.decode()
    response = client.post(_swap_url(assignment), {"staff": members["Dan Producer"].pk})
    assert response.status_code == 409
    assert not Assignment.objects.filter(staff=members["Dan Producer"]).exists()


def test_an_invited_persons_replacement_is_invited(
    client, staff, organiser, package_10k, django_capture_on_commit_callbacks
):
    from django.core import mail
    from django.utils import timezone

    ada = add_member("Ada Producer", ["producer"])
    ben = add_member("Ben Producer", ["producer"])
    day = (timezone.now() + timedelta(days=10)).date()
    webinar = hold(
        organiser,
        package_10k,
        start_local=datetime(day.year, day.month, day.day, 12),
        timezone_name="UTC",
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_booking(webinar, actor=None)
    assignment = Assignment.objects.get(webinar=webinar, status="confirmed")
    assert assignment.invited_at is not None
    new = ben if assignment.staff == ada else ada
    mail.outbox.clear()
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_swap_url(assignment), {"staff": new.pk})
    (message,) = mail.outbox
    assert message.to == [new.user.email] and webinar.title in message.subject
    assert Assignment.objects.get(staff=new, webinar=webinar).invited_at is not None


def test_when_the_constraint_itself_refuses_the_swap_nothing_changes(
    client, staff, setup, monkeypatch
):
    """The last line: work of Dan's that the swap's read did not see (a writer outside
    the lock order) makes PostgreSQL's exclusion constraint refuse the new assignment;
    the swap answers that Dan was taken and the old assignment stays as it was."""
    from events.selectors.staffing import Candidate

    webinar, assignment, members = setup
    dan = members["Dan Producer"]
    _work(webinar, dan, START)  # overlapping Ada's window: Dan is not free
    monkeypatch.setattr(Candidate, "busy_in", lambda self, window: False)
    client.force_login(staff)
    before = (Assignment.objects.count(), AuditEntry.objects.count())
    response = client.post(_swap_url(assignment), {"staff": dan.pk})
    assert response.status_code == 409
    assert "Dan Producer was just given overlapping work" in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.status == "confirmed"
    assert (Assignment.objects.count(), AuditEntry.objects.count()) == before
