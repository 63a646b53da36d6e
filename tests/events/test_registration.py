"""Registration services: opening and closing, registering (duplicates, consent, closed
pages), the neutral resend, deleting a registrant (the link is revoked in Redis), and the
batched join-link emails with their calendar invitation."""

import pytest
from django.core import mail
from icalendar import Calendar

from events.errors import AttendeeError
from events.models import Registrant, Registration
from events.services import join_links, registration
from events.tokens import read_join_token, revoked_key
from tests.conftest import hold
from tests.events.registration_helpers import (
    confirmed_webinar,
    fast_mail,
    open_webinar,
    register,
)
from webinars import services
from webinars.models import AuditEntry


@pytest.fixture(autouse=True)
def _mail(settings):
    fast_mail(settings)


def _actions(webinar, prefix: str) -> list[str]:
    return list(
        AuditEntry.objects.filter(webinar=webinar, action__startswith=prefix)
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_open_and_close_are_audited_once_each_and_idempotent(organiser, package_10k):
    webinar = confirmed_webinar(organiser, package_10k)
    registration.open_registration(webinar, actor=organiser)
    registration.open_registration(webinar, actor=organiser)
    registration.close_registration(webinar, actor=organiser)
    registration.close_registration(webinar, actor=organiser)
    assert Registration.objects.get(webinar=webinar).state == Registration.State.CLOSED
    assert _actions(webinar, "registration.") == ["registration.opened", "registration.closed"]


def test_an_unconfirmed_booking_cannot_open_registration(organiser, package_10k):
    webinar = hold(organiser, package_10k)
    with pytest.raises(AttendeeError) as error:
        registration.open_registration(webinar, actor=organiser)
    assert error.value.code == "not_confirmed" and error.value.http_status == 409
    assert not Registration.objects.filter(webinar=webinar).exists()


def test_register_takes_the_region_from_the_country_and_mails_the_link(
    organiser, package_10k, django_capture_on_commit_callbacks
):
    webinar = open_webinar(organiser, package_10k)
    with django_capture_on_commit_callbacks(execute=True):
        berlin = register(webinar, "Dana@Example.org ", country="de")
    with django_capture_on_commit_callbacks(execute=True):
        boston = register(webinar, "fox@example.org", country="US", name="Fox  Mulder")
    assert (berlin.email, berlin.country, berlin.region) == ("dana@example.org", "DE", "eu-central")
    assert (boston.name, boston.region) == ("Fox Mulder", "us-east")
    assert berlin.consent_at and berlin.source == Registrant.Source.FORM
    assert sorted(m.to[0] for m in mail.outbox) == ["dana@example.org", "fox@example.org"]
    assert Registrant.objects.filter(webinar=webinar, link_sent_at__isnull=True).count() == 0


def test_a_country_outside_the_webinars_regions_goes_to_the_nearest_of_them(organiser, package_10k):
    webinar = open_webinar(organiser, package_10k)
    assert register(webinar, "a@example.org", country="GB").region == "eu-west"
    assert register(webinar, "b@example.org", country="BR").region == "us-east"
    assert register(webinar, "c@example.org", country="uk").country == "GB"


def test_registering_twice_keeps_one_row_and_resends_the_link_once_per_interval(
    organiser, package_10k, django_capture_on_commit_callbacks
):
    webinar = open_webinar(organiser, package_10k)
    with django_capture_on_commit_callbacks(execute=True):
        first = register(webinar, "dana@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        again = register(webinar, "DANA@example.org", name="Someone Else", country="US")
    assert again.pk == first.pk
    assert Registrant.objects.filter(webinar=webinar).count() == 1
    assert Registrant.objects.get(pk=first.pk).name == "Dana Scully"  # never overwritten
    assert len(mail.outbox) == 1  # the resend interval has not passed
    from events.ratelimit import redis_client

    redis_client().delete(*redis_client().keys(f"{{{webinar.code}}}:resend:*"))
    with django_capture_on_commit_callbacks(execute=True):
        register(webinar, "dana@example.org")
    assert len(mail.outbox) == 2 and {m.to[0] for m in mail.outbox} == {"dana@example.org"}


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"consent": False}, "consent_required"),
        ({"email": "not-an-address"}, "invalid_email"),
        ({"name": "   "}, "invalid_name"),
        ({"name": "x" * 201}, "invalid_name"),
        ({"name": "Bob\x00"}, "invalid_name"),
        ({"country": "ZZ"}, "invalid_country"),
        ({"country": ""}, "invalid_country"),
    ],
)
def test_bad_input_registers_nobody(organiser, package_10k, fields, code):
    webinar = open_webinar(organiser, package_10k)
    params = {"email": "dana@example.org"} | fields
    with pytest.raises(AttendeeError) as error:
        register(webinar, **params)
    assert error.value.code == code and error.value.http_status == 400
    assert not Registrant.objects.filter(webinar=webinar).exists()


def test_a_closed_or_never_opened_page_registers_nobody(organiser, package_10k):
    never = confirmed_webinar(organiser, package_10k)
    closed = open_webinar(organiser, package_10k, title="Closed one")
    registration.close_registration(closed, actor=organiser)
    for webinar in (never, closed):
        with pytest.raises(AttendeeError) as error:
            register(webinar, "dana@example.org")
        assert error.value.code == "registration_closed"
    assert not Registrant.objects.exists()


def test_a_cancelled_webinar_registers_nobody_even_if_its_page_was_open(organiser, package_10k):
    webinar = open_webinar(organiser, package_10k)
    services.cancel_booking(webinar, actor=organiser)
    with pytest.raises(AttendeeError):
        register(webinar, "dana@example.org")


def test_resend_answers_nothing_and_mails_only_a_registered_address(
    organiser, package_10k, django_capture_on_commit_callbacks
):
    webinar = open_webinar(organiser, package_10k)
    with django_capture_on_commit_callbacks(execute=True):
        register(webinar, "dana@example.org")
    mail.outbox.clear()
    from events.ratelimit import redis_client

    redis_client().delete(*redis_client().keys(f"{{{webinar.code}}}:resend:*"))
    with django_capture_on_commit_callbacks(execute=True):
        assert registration.resend_link(webinar, email="nobody@example.org") is None
        assert registration.resend_link(webinar, email="not an address") is None
        assert registration.resend_link(webinar, email=" Dana@example.org") is None
    with django_capture_on_commit_callbacks(execute=True):
        registration.resend_link(webinar, email="dana@example.org")  # throttled
    assert [m.to for m in mail.outbox] == [["dana@example.org"]]


def test_the_link_email_carries_the_personal_link_and_a_calendar_invitation(
    organiser, package_10k, django_capture_on_commit_callbacks
):
    webinar = open_webinar(organiser, package_10k)
    with django_capture_on_commit_callbacks(execute=True):
        registrant = register(webinar, "dana@example.org")
    (message,) = mail.outbox
    assert webinar.title in message.subject
    token = message.body.split("/j/")[1].split("/")[0]
    claim = read_join_token(token)
    assert claim and (claim.webinar_code, claim.registrant_id) == (webinar.code, registrant.pk)
    assert claim.region == registrant.region
    html, _ = message.alternatives[0]
    assert f"/j/{token}/" in html
    (name, content, mimetype) = message.attachments[0]
    assert (name, mimetype) == ("webinar.ics", "text/calendar")
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == webinar.start_at
    assert event.decoded("dtend") == webinar.end_at
    assert str(event["summary"]) == webinar.title and f"/j/{token}/" in str(event["url"])


def test_links_go_out_in_batches_each_registrant_once(organiser, package_10k, settings):
    fast_mail(settings, batch=4)
    webinar = open_webinar(organiser, package_10k)
    for i in range(10):
        register(webinar, f"guest{i}@example.org")  # on-commit wake-ups not run here
    batches = []
    while (batch := join_links.send_link_batch(webinar.pk)).sent:
        batches.append(batch.sent)
    assert batches == [4, 4, 2]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        f"guest{i}@example.org" for i in range(10)
    )
    assert all(m.attachments for m in mail.outbox)


def test_the_global_mail_bucket_holds_back_a_batch_when_empty(organiser, package_10k, settings):
    fast_mail(settings, per_minute=1, batch=3)
    webinar = open_webinar(organiser, package_10k)
    for i in range(6):
        register(webinar, f"guest{i}@example.org")
    first = join_links.send_link_batch(webinar.pk)
    second = join_links.send_link_batch(webinar.pk)
    assert (first.sent, first.more) == (3, True)
    assert (second.sent, second.more) == (0, True) and second.wait_s > 0
    assert len(mail.outbox) == 3
    assert Registrant.objects.filter(webinar=webinar, link_sent_at__isnull=True).count() == 3


def test_the_mailer_task_sends_every_pending_link(organiser, package_10k, settings):
    from events.tasks import send_join_links_task

    fast_mail(settings, batch=3)
    webinar = open_webinar(organiser, package_10k)
    for i in range(7):
        register(webinar, f"guest{i}@example.org")
    send_join_links_task.delay(webinar_id=webinar.pk)  # eager: each run queues the next
    assert len(mail.outbox) == 7
    assert not Registrant.objects.filter(webinar=webinar, link_sent_at__isnull=True).exists()


def test_no_links_go_out_for_a_cancelled_webinar(organiser, package_10k):
    webinar = open_webinar(organiser, package_10k)
    register(webinar, "dana@example.org")
    services.cancel_booking(webinar, actor=organiser)
    assert join_links.send_link_batch(webinar.pk).sent == 0
    assert mail.outbox == []


def test_deleting_a_registrant_removes_the_row_and_revokes_the_link(organiser, package_10k):
    from events.ratelimit import redis_client

    webinar = open_webinar(organiser, package_10k)
    registrant = register(webinar, "dana@example.org")
    keep = register(webinar, "fox@example.org")
    registration.delete_registrant(registrant, actor=organiser)
    assert not Registrant.objects.filter(pk=registrant.pk).exists()
    assert Registrant.objects.filter(pk=keep.pk).exists()
    members = redis_client().smembers(revoked_key(webinar.code))
    assert members == {str(registrant.pk).encode()}
    assert redis_client().ttl(revoked_key(webinar.code)) > 0
    entry = AuditEntry.objects.get(webinar=webinar, action="registrant.deleted")
    assert entry.actor == organiser and entry.data["registrant"] == registrant.pk
    assert "dana" not in str(entry.data)  # the audit log keeps no deleted person's email
