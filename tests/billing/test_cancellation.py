import contextlib
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from billing.models import Dispute, Invoice, Payment, Refund
from billing.services.cancellation import cancel_webinar, refund_quote
from billing.services.checkout import start_checkout
from tests.billing.conftest import wait_for
from tests.conftest import hold, local_start
from webinars.models import FleetSlot


def _paid(organiser, package, emulator, days: int = 40):
    webinar = hold(organiser, package, start_local=local_start(days=days))
    payment = start_checkout(webinar, actor=organiser)
    emulator.act(payment.checkout_session_id, "pay_card")
    wait_for(lambda: Payment.objects.get(pk=payment.pk).status == "succeeded")
    webinar.refresh_from_db()
    return webinar, Payment.objects.get(pk=payment.pk)


def _recorded_payment(webinar) -> Payment:
    """A succeeded payment as the webhook would have stored it (no Stripe involved)."""
    return Payment.objects.create(
        webinar=webinar,
        organisation=webinar.organisation,
        currency="USD",
        net_minor=900_000,
        amount_minor=900_000,
        status="succeeded",
        paid_at=timezone.now(),
    )


@pytest.mark.parametrize(
    ("days_before", "percent"),
    [(45, 100), (30, 100), (29.99, 50), (7, 50), (6.99, 0), (1, 0)],
)
def test_refund_quote_at_each_policy_boundary(organiser, package_10k, days_before, percent):
    webinar = hold(organiser, package_10k, start_local=local_start(days=50))
    _recorded_payment(webinar)
    now = webinar.start_at - timedelta(days=days_before)
    quote = refund_quote(webinar, now=now)
    assert quote.percent == percent
    assert quote.amount_minor == 900_000 * percent // 100


def test_no_refund_once_provisioning_started(organiser, package_10k):
    webinar = hold(organiser, package_10k, start_local=local_start(days=50))
    _recorded_payment(webinar)
    quote = refund_quote(webinar, now=webinar.occupied_from + timedelta(minutes=1))
    assert quote.amount_minor == 0 and "Provisioning" in quote.reason


def test_cancelling_refunds_through_stripe_and_issues_a_credit_note(
    live_stripe, organiser, package_10k
):
    webinar, payment = _paid(organiser, package_10k, live_stripe, days=40)
    webinar, refund = cancel_webinar(webinar, actor=organiser)
    assert webinar.status == "cancelled"
    assert set(FleetSlot.objects.values_list("used", flat=True)) == {0}
    assert refund is not None and refund.amount_minor == 900_000
    wait_for(lambda: Refund.objects.get(pk=refund.pk).status == "succeeded")
    credit = wait_for(lambda: Invoice.objects.filter(refund=refund).first())
    assert credit.number.startswith("CN-") and credit.gross_minor == 900_000
    wait_for(lambda: Payment.objects.get(pk=payment.pk).status == "refunded")
    assert any("cancelled" in m.subject for m in mail.outbox)


def test_cancelling_a_held_booking_refunds_nothing(live_stripe, organiser, package_10k):
    webinar = hold(organiser, package_10k)
    webinar, refund = cancel_webinar(webinar, actor=organiser)
    assert webinar.status == "cancelled" and refund is None


def test_refund_failure_is_surfaced_to_finance(live_stripe, organiser, package_10k, settings):
    webinar, payment = _paid(organiser, package_10k, live_stripe, days=40)
    _, refund = cancel_webinar(webinar, actor=organiser)
    refund = wait_for(lambda: Refund.objects.filter(pk=refund.pk, stripe_id__isnull=False).first())
    live_stripe.post(f"/_test/refunds/{refund.stripe_id}/fail")
    wait_for(lambda: Refund.objects.get(pk=refund.pk).status == "failed")
    webinar.refresh_from_db()
    assert webinar.needs_attention and "failed" in webinar.attention_reason
    wait_for(
        lambda: any(settings.FINANCE_EMAIL in m.to and "FAILED" in m.subject for m in mail.outbox)
    )
    payment.refresh_from_db()
    assert payment.refunded_minor == 0


def test_dispute_flags_the_booking_and_alerts_staff(live_stripe, organiser, package_10k, settings):
    webinar, payment = _paid(organiser, package_10k, live_stripe)
    live_stripe.post(f"/_test/charges/{payment.charge_id}/dispute")
    dispute = wait_for(lambda: Dispute.objects.filter(payment=payment).first())
    assert dispute.amount_minor == 900_000
    webinar.refresh_from_db()
    assert webinar.needs_attention
    wait_for(lambda: any(settings.EVENT_SERVICES_EMAIL in m.to for m in mail.outbox))


def test_missed_funds_deadline_releases_and_tells_the_organiser(
    live_stripe, organiser, package_10k
):
    from webinars.services import expire_due_holds

    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    live_stripe.act(payment.checkout_session_id, "bank_transfer")
    wait_for(lambda: Payment.objects.get(pk=payment.pk).status == "awaiting_funds")
    type(webinar).objects.filter(pk=webinar.pk).update(
        funds_deadline=timezone.now() - timedelta(minutes=1)
    )
    assert expire_due_holds() == [webinar.code]
    assert set(FleetSlot.objects.values_list("used", flat=True)) == {0}
    assert any("not received in time" in m.subject for m in mail.outbox)


def test_cancel_page_previews_the_refund_from_the_configured_policy(
    client, organiser, package_10k, settings
):
    settings.CANCELLATION_POLICY = [{"min_days": 20, "percent": 80}]
    webinar = hold(organiser, package_10k, start_local=local_start(days=40))
    _recorded_payment(webinar)
    client.force_login(organiser)
    body = client.get(f"/billing/webinars/{webinar.code}/cancel/").content.decode()
    assert "$7,200.00 USD" in body and "(80%)" in body
    assert "80% refund when cancelled 20+ days before the start" in body


def test_event_services_cancellation_refunds_everything(
    live_stripe, organiser, package_10k, staff, client
):
    from django.urls import reverse

    webinar, payment = _paid(organiser, package_10k, live_stripe, days=3)  # policy: 0%
    client.force_login(staff)
    client.post(
        reverse("admin:webinars_webinar_changelist"),
        {"action": "cancel_and_refund", "_selected_action": [webinar.pk]},
    )
    webinar.refresh_from_db()
    assert webinar.status == "cancelled"
    refund = Refund.objects.get(payment=payment)
    assert refund.reason == "staff" and refund.amount_minor == 900_000
    wait_for(lambda: Refund.objects.get(pk=refund.pk).status == "succeeded")
    assert wait_for(lambda: Invoice.objects.filter(refund=refund).exists())


def test_a_refund_stuck_before_stripe_is_retried_and_flagged(
    manual_stripe, organiser, package_10k, settings, monkeypatch
):
    from billing import tasks
    from billing.errors import GatewayError
    from billing.services import refunds
    from billing.services.refunds import request_refund

    def worker_submits(refund_id: int) -> None:
        # One delivery of the task on a worker: an unreachable Stripe leaves it requested.
        with contextlib.suppress(GatewayError):
            refunds.submit_refund(Refund.objects.get(pk=refund_id))

    monkeypatch.setattr(tasks.submit_refund_task, "delay", worker_submits)

    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    manual_stripe.act(payment.checkout_session_id, "pay_card")
    session = manual_stripe.get(f"/v1/checkout/sessions/{payment.checkout_session_id}")
    Payment.objects.filter(pk=payment.pk).update(
        status="succeeded", payment_intent_id=session["payment_intent"]
    )
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe unreachable
    refund = request_refund(
        Payment.objects.get(pk=payment.pk), amount_minor=100_000, reason="staff", actor=None
    )
    refund.refresh_from_db()
    assert refund.status == "requested" and refund.stripe_id is None
    Refund.objects.filter(pk=refund.pk).update(created_at=timezone.now() - timedelta(days=2))
    tasks.retry_stuck_refunds_task()  # still unreachable: flagged, finance told
    webinar.refresh_from_db()
    assert webinar.needs_attention
    assert any("has not reached Stripe" in m.subject for m in mail.outbox)
    settings.STRIPE_API_BASE = manual_stripe.url  # Stripe is back
    tasks.retry_stuck_refunds_task()
    refund.refresh_from_db()
    assert refund.stripe_id and refund.status == "succeeded"


def test_a_booking_keeps_the_cancellation_policy_it_was_sold_under(
    client, organiser, package_10k, settings
):
    settings.CANCELLATION_POLICY = [{"min_days": 30, "percent": 100}]
    sold = hold(organiser, package_10k, start_local=local_start(days=50))
    _recorded_payment(sold)
    # Finance tightens the policy afterwards: only new bookings get the new terms.
    settings.CANCELLATION_POLICY = [{"min_days": 60, "percent": 100}]
    later = hold(organiser, package_10k, start_local=local_start(days=52))
    _recorded_payment(later)
    forty_days_out = {"now": sold.start_at - timedelta(days=40)}

    assert refund_quote(sold, **forty_days_out).percent == 100
    assert refund_quote(later, now=later.start_at - timedelta(days=40)).percent == 0
    client.force_login(organiser)
    page = client.get(f"/billing/webinars/{sold.code}/cancel/").content.decode()
    assert "100% refund when cancelled 30+ days before the start" in page
    assert "60+ days" not in page
