"""Staff invitations: confirmation emails every member of the team an .ics invitation
with signed accept/decline links; accepting and declining work from the link alone; a
forged or expired link changes nothing; a decline is filled by the next free person, or
flags the booking and emails the leads, and the retry fills it once someone is free;
cancelling the booking sends everyone a cancellation."""

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from events import tokens
from events.models import Assignment
from events.services import invitations
from tests.conftest import hold
from tests.events.staffing_helpers import add_leave, add_member
from webinars import services
from webinars.models import AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.own_roster]


def _at(hour: int, days: int = 10) -> datetime:
    day = (timezone.now() + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, 0)


def _confirmed(organiser, package, django_capture_on_commit_callbacks, **kw):
    webinar = hold(organiser, package, start_local=_at(12), timezone_name="UTC", **kw)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_booking(webinar, actor=None)
    return webinar


def _ics(message) -> Calendar:
    (attachment,) = [a for a in message.attachments if a[0].endswith(".ics")]
    content = attachment[1]
    return Calendar.from_ical(content if isinstance(content, bytes) else content.encode())


def _link(message, answer: str) -> str:
    line = next(x for x in message.body.splitlines() if x.startswith(answer.capitalize() + ":"))
    return line.split(": ", 1)[1].removeprefix(settings.SITE_URL)


@pytest.fixture
def two_producers(db):
    return (
        add_member("Ada Producer", ["producer"]),
        add_member("Ben Producer", ["producer"]),
    )


def test_confirmation_invites_each_member_with_a_calendar_invitation(
    organiser, catalogue, django_capture_on_commit_callbacks
):
    from webinars.models import Package

    for name, role in [("Ada", "producer"), ("Tess", "technical_lead"), ("Mo", "moderator")]:
        add_member(name, [role])
    package = Package.objects.get(code="100k")
    webinar = _confirmed(organiser, package, django_capture_on_commit_callbacks)
    assert webinar.assignments.count() == 3
    team = list(webinar.assignments.select_related("staff__user"))
    assert team and len(mail.outbox) == len(team)
    by_to = {m.to[0]: m for m in mail.outbox}
    for assignment in team:
        message = by_to[assignment.staff.user.email]
        assert webinar.title in message.subject
        assert assignment.get_role_display() in message.subject
        cal = _ics(message)
        assert str(cal["method"]) == "REQUEST"
        (event,) = cal.walk("VEVENT")
        assert str(event["uid"]) == f"{assignment.code}@megawebinar.events"
        # The work window in UTC: an hour of preparation before, 30 min wrap-up after.
        assert event.decoded("dtstart") == webinar.start_at - timedelta(minutes=60)
        assert event.decoded("dtend") == webinar.start_at + timedelta(minutes=90 + 30)
        assert event.decoded("dtstart").utcoffset() == timedelta(0)
        assert str(event["organizer"]) == f"mailto:{settings.EVENT_SERVICES_EMAIL}"
        assert str(event["attendee"]) == f"mailto:{assignment.staff.user.email}"
        assert event["attendee"].params["PARTSTAT"] == "NEEDS-ACTION"
        assert "/events/staff/invitations/" in _link(message, "accept")
        assert "/events/staff/invitations/" in _link(message, "decline")
        assert "Accept" in message.alternatives[0][0]
    assert all(a.invited_at for a in webinar.assignments.all())
    # A redelivered task sends nothing twice.
    assert invitations.send_invitations(webinar.pk) == 0
    assert len(mail.outbox) == len(team)


def test_accepting_by_the_link(
    client, organiser, package_10k, two_producers, django_capture_on_commit_callbacks
):
    webinar = _confirmed(organiser, package_10k, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    url = _link(message, "accept")
    # A mail scanner fetching the link answers nothing.
    page = client.get(url)
    assert page.status_code == 200 and 'value="accept"' in page.content.decode()
    assignment = webinar.assignments.get()
    assert assignment.accepted_at is None
    done = client.post(url.split("?")[0], {"answer": "accept"})
    assert done.status_code == 200 and "you are confirmed" in done.content.decode()
    assignment.refresh_from_db()
    assert assignment.accepted_at and assignment.status == "confirmed"
    entry = AuditEntry.objects.get(webinar=webinar, action="staffing.assignment_accepted")
    assert entry.data["staff"] == assignment.staff.display_name
    # Accepting again changes nothing and writes no second row.
    assert client.post(url.split("?")[0], {"answer": "accept"}).status_code == 200
    assert AuditEntry.objects.filter(action="staffing.assignment_accepted").count() == 1


def test_forged_altered_and_expired_links_change_nothing(
    client, organiser, package_10k, two_producers, django_capture_on_commit_callbacks
):
    webinar = _confirmed(organiser, package_10k, django_capture_on_commit_callbacks)
    assignment = webinar.assignments.get()
    good = tokens.invitation_token(str(assignment.code))
    expired_signer = signing.TimestampSigner(salt=tokens.INVITATION_SALT)
    expired_signer.timestamp = lambda: signing.b62_encode(  # type: ignore[method-assign]
        int((timezone.now() - timedelta(days=settings.STAFF_INVITATION_LINK_DAYS + 1)).timestamp())
    )
    bad_tokens = [
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),  # altered signature
        signing.dumps(str(assignment.code), salt="another.salt"),  # another signer
        tokens.join_token("W-X", 1, "us-east"),  # a join link's token
        expired_signer.sign_object(str(assignment.code)),
        "not-a-token",
        tokens.invitation_token("not-a-code"),  # well signed, but names no assignment
    ]
    for token in bad_tokens:
        url = reverse("events:invitation", args=[token])
        page = client.get(url)
        assert page.status_code == 404
        assert "This invitation link is not valid" in page.content.decode()
        assert client.post(url, {"answer": "decline"}).status_code == 404
    assignment.refresh_from_db()
    assert assignment.status == "confirmed" and assignment.accepted_at is None
    assert webinar.assignments.count() == 1
    assert not AuditEntry.objects.filter(action__startswith="staffing.assignment_").exists()
    # A well-signed link without an answer is a 400 and changes nothing either.
    url = reverse("events:invitation", args=[good])
    assert client.post(url, {"answer": "maybe"}).status_code == 400
    assignment.refresh_from_db()
    assert assignment.status == "confirmed"


def test_declining_hands_the_role_to_the_next_free_person(
    client, organiser, package_10k, two_producers, django_capture_on_commit_callbacks
):
    webinar = _confirmed(organiser, package_10k, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    first = webinar.assignments.get()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(_link(message, "decline").split("?")[0], {"answer": "decline"})
    assert done.status_code == 200 and "Declined" in done.content.decode()
    first.refresh_from_db()
    assert first.status == "declined"
    replacement = webinar.assignments.get(status="confirmed")
    assert {replacement.staff, first.staff} == set(two_producers)
    # One audit row: the decline and who took the role over, and why.
    entry = AuditEntry.objects.get(webinar=webinar, action="staffing.assignment_declined")
    assert entry.data["staff"] == first.staff.display_name
    assert entry.data["replacement"]["staff"] == replacement.staff.display_name
    assert entry.data["replacement"]["reason"].startswith("Chosen as producer")
    # The newcomer is invited in turn; the booking is not flagged.
    assert mail.outbox[-1].to == [replacement.staff.user.email]
    assert str(_ics(mail.outbox[-1]).walk("VEVENT")[0]["uid"]).startswith(str(replacement.code))
    webinar.refresh_from_db()
    assert not webinar.needs_attention
    # Declining an assignment that is no longer open: a clear 409, nothing changes.
    again = client.post(_link(message, "decline").split("?")[0], {"answer": "accept"})
    assert again.status_code == 409 and "no longer open" in again.content.decode()
    first.refresh_from_db()
    assert first.status == "declined" and first.accepted_at is None


def test_a_decline_nobody_can_cover_flags_the_booking_and_the_retry_fills_it(
    client, organiser, package_10k, django_capture_on_commit_callbacks
):
    only = add_member("Ada Producer", ["producer"])
    busy = add_member("Cy Producer", ["producer"])
    add_leave(busy, timezone.now() + timedelta(days=9), days=3)
    webinar = _confirmed(organiser, package_10k, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_link(message, "decline").split("?")[0], {"answer": "decline"})
    webinar.refresh_from_db()
    assert webinar.needs_attention
    assert webinar.attention_reason.startswith("Event Services team incomplete")
    assert not webinar.assignments.filter(status__in=Assignment.ACTIVE_STATUSES).exists()
    leads = mail.outbox[-1]
    assert leads.to == [settings.EVENT_SERVICES_EMAIL]
    assert webinar.code in leads.subject and "producer" in leads.subject
    # The retry does not ask the person who declined again.
    assert invitations.fill_all_open_roles() == 0
    assert webinar.assignments.get().staff == only
    # Cy's leave is withdrawn: availability changed, the retry runs and fills the role.
    with django_capture_on_commit_callbacks(execute=True):
        busy.time_off.get().delete()
    filled = webinar.assignments.get(status="confirmed")
    assert filled.staff == busy
    entry = AuditEntry.objects.get(webinar=webinar, action="staffing.role_filled")
    assert entry.data["staff"] == busy.display_name
    webinar.refresh_from_db()
    assert not webinar.needs_attention
    assert mail.outbox[-1].to == [busy.user.email]


def test_a_new_staff_member_fills_an_open_role(
    client, organiser, package_10k, django_capture_on_commit_callbacks
):
    add_member("Ada Producer", ["producer"])
    webinar = _confirmed(organiser, package_10k, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_link(mail.outbox[0], "decline").split("?")[0], {"answer": "decline"})
    assert webinar.assignments.filter(status="confirmed").count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        newcomer = add_member("Dee Producer", ["producer"])
    assert webinar.assignments.get(status="confirmed").staff == newcomer
    assert mail.outbox[-1].to == [newcomer.user.email]


def test_cancelling_the_booking_releases_the_team_and_tells_it(
    organiser, package_10k, two_producers, django_capture_on_commit_callbacks
):
    webinar = _confirmed(organiser, package_10k, django_capture_on_commit_callbacks)
    assignment = webinar.assignments.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_booking(webinar, actor=organiser)
    assignment.refresh_from_db()
    assert assignment.status == "released"
    notice = mail.outbox[-1]
    assert notice.to == [assignment.staff.user.email]
    assert notice.subject.startswith("Cancelled:")
    cal = _ics(notice)
    assert str(cal["method"]) == "CANCEL"
    (event,) = cal.walk("VEVENT")
    assert str(event["uid"]) == f"{assignment.code}@megawebinar.events"
    assert str(event["status"]) == "CANCELLED"
    # Told once: a redelivered task sends nothing more.
    assert invitations.notify_team_cancelled(webinar.pk) == 0


def test_a_decline_frees_the_person_for_another_webinar_missing_someone(
    client, organiser, package_10k, django_capture_on_commit_callbacks
):
    ada = add_member("Ada Producer", ["producer"])
    first = _confirmed(organiser, package_10k, django_capture_on_commit_callbacks)
    assert first.assignments.get().staff == ada
    # A second webinar at the same hour whose only producer declined: nobody free then.
    ben = add_member("Ben Producer", ["producer"])
    second = _confirmed(organiser, package_10k, django_capture_on_commit_callbacks, title="Two")
    assert second.assignments.get().staff == ben
    with django_capture_on_commit_callbacks(execute=True):
        invitations.decline_assignment(second.assignments.get())
    second.refresh_from_db()
    assert second.needs_attention
    # Ada declines the first: Ben (free since his decline) takes it over, and the retry
    # queued by her decline gives her the second webinar, which is no longer flagged.
    with django_capture_on_commit_callbacks(execute=True):
        invitations.decline_assignment(first.assignments.get(staff=ada))
    assert first.assignments.get(status="confirmed").staff == ben
    assert second.assignments.get(status="confirmed").staff == ada
    second.refresh_from_db()
    assert not second.needs_attention
