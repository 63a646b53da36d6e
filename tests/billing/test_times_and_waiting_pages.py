"""One way to show times (the webinar's zone with its abbreviation, on pages, emails and
the emulator's hosted page), and the pages that wait: the bank-transfer return page and
the Payment panel poll while something is on its way, and stop once it is final."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from billing.models import Payment, Refund
from billing.services import invoicing
from billing.services.checkout import start_checkout
from tests.billing.conftest import wait_for
from tests.billing.finance_helpers import (
    made_refund,
    paid_payment,
    tmp_media,  # noqa: F401 - fixture
)
from tests.conftest import hold, local_start
from webinars import services
from webinars.formatting import format_in_zone
from webinars.models import Webinar
from webinars.tasks import expire_holds_task

PARIS = "Europe/Paris"


def shown(moment: datetime, zone: str = PARIS) -> str:
    """How a person must see `moment`: local time in `zone` and the zone's abbreviation."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"


def paris_hold(organiser, package, **overrides) -> Webinar:
    params = {"timezone_name": PARIS, "start_local": local_start(days=40, hour=15, tz=PARIS)}
    return hold(organiser, package, **(params | overrides))


def awaiting_funds(organiser, package) -> tuple[Webinar, Payment]:
    """A Paris webinar whose organiser chose a bank transfer, as the webhook leaves it."""
    webinar = paris_hold(organiser, package)
    payment = Payment.objects.create(
        webinar=webinar,
        organisation=webinar.organisation,
        status=Payment.Status.AWAITING_FUNDS,
        method=Payment.Method.BANK_TRANSFER,
        currency="USD",
        net_minor=900_000,
        amount_minor=900_000,
        checkout_url="http://127.0.0.1:12111/checkout/pay/cs_test_1",
    )
    deadline = timezone.now().replace(microsecond=0) + timedelta(days=5)
    webinar = services.mark_awaiting_funds(webinar, actor=None, funds_deadline=deadline)
    return webinar, payment


@pytest.mark.parametrize(
    ("moment", "zone", "expected"),
    [
        (datetime(2027, 1, 15, 14, 0, tzinfo=UTC), PARIS, "Fri 15 Jan 2027, 15:00 CET"),
        (datetime(2027, 7, 15, 13, 0, tzinfo=UTC), PARIS, "Thu 15 Jul 2027, 15:00 CEST"),
        (
            datetime(2027, 1, 15, 14, 0, tzinfo=UTC),
            "America/New_York",
            "Fri 15 Jan 2027, 09:00 EST",
        ),
        # Zones without letters for their abbreviation show the offset, never "+04".
        (datetime(2027, 1, 15, 14, 0, tzinfo=UTC), "Asia/Dubai", "Fri 15 Jan 2027, 18:00 UTC+4"),
        (
            datetime(2027, 1, 15, 14, 0, tzinfo=UTC),
            "Asia/Kathmandu",
            "Fri 15 Jan 2027, 19:45 UTC+5:45",
        ),
        (
            datetime(2027, 1, 15, 14, 0, tzinfo=UTC),
            "America/Sao_Paulo",
            "Fri 15 Jan 2027, 11:00 UTC-3",
        ),
        (datetime(2027, 1, 15, 14, 0, tzinfo=UTC), "UTC", "Fri 15 Jan 2027, 14:00 UTC"),
        # A naive time is read as UTC (the database's convention), not as the server's zone.
        (datetime(2027, 1, 15, 14, 0), PARIS, "Fri 15 Jan 2027, 15:00 CET"),
        (None, PARIS, ""),
    ],
)
def test_one_format_for_times_in_the_webinar_zone(moment, zone, expected):
    assert format_in_zone(moment, zone) == expected


def test_booking_page_shows_start_and_hold_in_the_webinar_zone(client, organiser, package_10k):
    webinar = paris_hold(organiser, package_10k)
    client.force_login(organiser)
    body = client.get(reverse("webinars:detail", args=[webinar.code])).content.decode()
    assert shown(webinar.start_at) in body
    assert shown(webinar.hold_expires_at) in body


def test_return_page_states_the_funds_deadline_in_the_webinar_zone(client, organiser, package_10k):
    webinar, payment = awaiting_funds(organiser, package_10k)
    client.force_login(organiser)
    body = client.get(reverse("billing:return", args=[webinar.code])).content.decode()
    deadline = re.search(r'id="funds-deadline">([^<]*)<', body)
    assert deadline and deadline.group(1) == shown(webinar.funds_deadline)
    assert "(UTC)" not in body
    # The instructions: how much, by when, where the bank details are.
    assert "$9,000.00 USD" in body and payment.checkout_url in body
    assert shown(webinar.start_at) in body


def test_return_page_polls_while_awaiting_funds_and_stops_once_confirmed(
    client, organiser, package_10k
):
    webinar, _payment = awaiting_funds(organiser, package_10k)
    client.force_login(organiser)
    status_url = reverse("billing:payment_status", args=[webinar.code])
    page = client.get(reverse("billing:return", args=[webinar.code])).content.decode()
    assert f'hx-get="{status_url}"' in page and "every 10s" in page

    fragment = client.get(status_url).content.decode()
    assert f'hx-get="{status_url}"' in fragment and 'hx-swap="outerHTML"' in fragment

    services.confirm_booking(webinar, actor=None)
    fragment = client.get(status_url).content.decode()
    assert "Confirmed!" in fragment
    assert "hx-get" not in fragment and "hx-trigger" not in fragment


def test_payment_status_and_panel_are_404_for_another_organisation(
    client, organiser, outsider, package_10k
):
    webinar, _payment = awaiting_funds(organiser, package_10k)
    client.force_login(outsider)
    for name in ("billing:payment_status", "billing:panel"):
        assert client.get(reverse(name, args=[webinar.code])).status_code == 404
    client.force_login(organiser)
    assert client.post(reverse("billing:panel", args=[webinar.code])).status_code == 405
    assert client.get(reverse("billing:panel", args=["W-NOPE2345"])).status_code == 404
    client.logout()
    response = client.get(reverse("billing:panel", args=[webinar.code]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.usefixtures("tmp_media")
def test_panel_polls_while_a_refund_is_pending_then_shows_the_credit_note(
    client, organiser, package_10k
):
    payment = paid_payment(organiser, package_10k)
    webinar = payment.webinar
    invoicing.issue_invoice(payment, actor=None)
    services.cancel_booking(webinar, actor=organiser)
    refund = made_refund(payment, 900_000, status=Refund.Status.PENDING)
    client.force_login(organiser)
    panel_url = reverse("billing:panel", args=[webinar.code])

    page = client.get(reverse("webinars:detail", args=[webinar.code])).content.decode()
    assert "Refund of $9,000.00 USD in progress" in page
    assert f'hx-get="{panel_url}"' in page

    panel = client.get(panel_url).content.decode()
    assert 'id="billing-panel"' in panel and f'hx-get="{panel_url}"' in panel
    assert "CN-" not in panel

    Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.SUCCEEDED)
    note = invoicing.issue_credit_note(refund, actor=None)
    panel = client.get(panel_url).content.decode()
    assert note.number in panel and "Refunded $9,000.00 USD" in panel
    assert "in progress" not in panel and "hx-get" not in panel


def test_panel_says_when_a_refund_failed_and_stops_polling(client, organiser, package_10k):
    payment = paid_payment(organiser, package_10k)
    services.cancel_booking(payment.webinar, actor=organiser)
    made_refund(payment, 450_000, status=Refund.Status.FAILED)
    client.force_login(organiser)
    panel = client.get(reverse("billing:panel", args=[payment.webinar.code])).content.decode()
    assert "refund of $4,500.00 USD could not be completed" in panel
    assert "hx-get" not in panel


@pytest.mark.usefixtures("tmp_media")
def test_timeline_labels_a_credit_note_email_as_such(
    client, organiser, package_10k, django_capture_on_commit_callbacks
):
    payment = paid_payment(organiser, package_10k)
    with django_capture_on_commit_callbacks(execute=True):
        invoicing.issue_invoice(payment, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        invoicing.issue_credit_note(made_refund(payment, 900_000), actor=None)
    assert len(mail.outbox) == 2
    client.force_login(organiser)
    body = client.get(reverse("webinars:detail", args=[payment.webinar.code])).content.decode()
    timeline = body[body.index("Status timeline") :]
    assert timeline.count("<strong>Invoice emailed</strong>") == 1
    assert timeline.count("<strong>Credit note emailed</strong>") == 1
    assert "<strong>Credit note issued</strong>" in timeline


@pytest.mark.usefixtures("tmp_media")
def test_invoice_and_credit_note_emails_show_the_start_in_the_webinar_zone(
    organiser, package_10k, django_capture_on_commit_callbacks
):
    payment = paid_payment(
        organiser,
        package_10k,
        timezone_name=PARIS,
        start_local=local_start(days=40, hour=15, tz=PARIS),
    )
    with django_capture_on_commit_callbacks(execute=True):
        invoice = invoicing.issue_invoice(payment, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        invoicing.issue_credit_note(made_refund(payment, 900_000), actor=None)
    start = shown(payment.webinar.start_at)
    for message in mail.outbox:
        assert start in message.body
        assert start in message.alternatives[0][0]
    assert start in invoice.lines.get().description


def test_notices_state_start_and_funds_deadline_in_the_webinar_zone(
    organiser, package_10k, django_capture_on_commit_callbacks
):
    webinar, _payment = awaiting_funds(organiser, package_10k)
    deadline = timezone.now().replace(microsecond=0) - timedelta(minutes=1)
    Webinar.objects.filter(pk=webinar.pk).update(funds_deadline=deadline)
    with django_capture_on_commit_callbacks(execute=True):
        expire_holds_task()
    [notice] = [m for m in mail.outbox if "not received in time" in m.subject]
    assert shown(deadline) in notice.body and shown(webinar.start_at) in notice.body
    assert "UTC" not in notice.body


def test_lead_time_error_names_the_earliest_start_in_the_webinar_zone(organiser, package_1m):
    from webinars.errors import BookingError

    with pytest.raises(BookingError) as caught:
        paris_hold(organiser, package_1m, start_local=local_start(days=3, tz=PARIS))
    assert caught.value.code == "lead_time"
    assert re.search(
        r"earliest start is \w{3} \d\d \w{3} \d{4}, \d\d:\d\d CES?T\.", str(caught.value)
    )


def test_bank_transfer_email_and_hosted_page_show_times_in_the_webinar_zone(
    live_stripe, organiser, package_10k
):
    import urllib.request

    webinar = paris_hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    session = live_stripe.get(f"/v1/checkout/sessions/{payment.checkout_session_id}")
    assert session["metadata"]["time_zone"] == PARIS
    with urllib.request.urlopen(payment.checkout_url, timeout=10) as response:
        hosted = response.read().decode()
    assert f"Complete this page by {shown(payment.expires_at)}." in hosted

    live_stripe.act(payment.checkout_session_id, "bank_transfer")
    notice = wait_for(lambda: next((m for m in mail.outbox if "must arrive by" in m.subject), None))
    webinar.refresh_from_db()
    assert webinar.status == "awaiting_funds"
    assert shown(webinar.funds_deadline) in notice.subject
    assert shown(webinar.funds_deadline) in notice.body and "$9,000.00 USD" in notice.body
