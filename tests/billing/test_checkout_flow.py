"""Checkout end to end: the gateway talks to the emulator over HTTP, the emulator's
signed webhooks reach the live endpoint, Celery (eager) processes them."""

from django.core import mail
from django.db.models import Max

from billing.models import Invoice, Payment, StripeCustomer, StripeEvent
from billing.services.checkout import start_checkout
from tests.billing.conftest import wait_for
from tests.conftest import hold, local_start
from webinars.models import AuditEntry, FleetSlot, Webinar


def _status(webinar: Webinar) -> str:
    webinar.refresh_from_db()
    return webinar.status


def _used() -> int:
    return FleetSlot.objects.aggregate(m=Max("used"))["m"] or 0


def test_card_payment_confirms_the_booking_and_issues_an_invoice(
    live_stripe, organiser, package_10k
):
    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    assert payment.checkout_url.startswith(live_stripe.url + "/checkout/pay/")
    session = live_stripe.get(f"/v1/checkout/sessions/{payment.checkout_session_id}")
    assert session["amount_total"] == 900_000 and session["client_reference_id"] == webinar.code
    assert session["metadata"]["booking"] == webinar.code
    assert StripeCustomer.objects.filter(organisation=webinar.organisation).count() == 1

    live_stripe.act(payment.checkout_session_id, "pay_card")
    wait_for(lambda: _status(webinar) == "confirmed")
    payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.charge_id and payment.payment_intent_id
    invoice = wait_for(lambda: Invoice.objects.filter(payment=payment).first())
    assert invoice.number.startswith("INV-") and invoice.gross_minor == 900_000
    assert _used() == 13
    actions = set(AuditEntry.objects.filter(webinar=webinar).values_list("action", flat=True))
    assert {
        "payment.checkout_started",
        "payment.succeeded",
        "webinar.confirmed",
        "invoice.issued",
    } <= actions


def test_same_checkout_is_reused_and_the_customer_created_once(live_stripe, organiser, package_10k):
    webinar = hold(organiser, package_10k)
    first = start_checkout(webinar, actor=organiser)
    second = start_checkout(webinar, actor=organiser)
    assert first.pk == second.pk and first.checkout_session_id == second.checkout_session_id
    other = hold(organiser, package_10k, title="Second")
    start_checkout(other, actor=organiser)
    assert StripeCustomer.objects.count() == 1
    webinar.refresh_from_db()
    # The hold is stretched to the session's expiry (Stripe's 30-minute minimum).
    assert webinar.hold_expires_at >= first.expires_at


def test_declined_card_leaves_the_hold_in_place(live_stripe, organiser, package_10k):
    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    session = live_stripe.act(payment.checkout_session_id, "decline_card")
    assert session["status"] == "open"
    assert _status(webinar) == "held"
    payment.refresh_from_db()
    assert payment.status == "open"
    assert _used() == 13


def test_bank_transfer_waits_for_funds_then_confirms(live_stripe, organiser, package_10k):
    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    live_stripe.act(payment.checkout_session_id, "bank_transfer")
    wait_for(lambda: _status(webinar) == "awaiting_funds")
    assert webinar.funds_deadline is not None and webinar.hold_expires_at is None
    assert _used() == 13
    live_stripe.act(payment.checkout_session_id, "funds_received")
    wait_for(lambda: _status(webinar) == "confirmed")
    assert Invoice.objects.filter(payment=payment).count() == 1


def test_failed_bank_transfer_releases_the_hold_and_tells_the_organiser(
    live_stripe, organiser, package_10k
):
    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    live_stripe.act(payment.checkout_session_id, "bank_transfer")
    wait_for(lambda: _status(webinar) == "awaiting_funds")
    live_stripe.act(payment.checkout_session_id, "transfer_failed")
    wait_for(lambda: _status(webinar) == "expired")
    payment.refresh_from_db()
    assert payment.status == "failed"
    assert _used() == 0
    wait_for(lambda: any("Bank transfer" in m.subject for m in mail.outbox))


def test_expired_session_releases_the_hold(live_stripe, organiser, package_10k):
    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    live_stripe.post(f"/v1/checkout/sessions/{payment.checkout_session_id}/expire")
    wait_for(lambda: _status(webinar) == "expired")
    payment.refresh_from_db()
    assert payment.status == "expired"
    assert _used() == 0
    assert (
        StripeEvent.objects.filter(type="checkout.session.expired", status="processed").count() == 1
    )


def test_late_payment_is_refunded_automatically_and_flagged(live_stripe, organiser, package_10k):
    from webinars import services
    from webinars.models import Region

    Region.objects.filter(code="us-east").update(fleet_size=13)
    late = hold(organiser, package_10k, start_local=local_start(days=20, hour=15))
    payment = start_checkout(late, actor=organiser)
    services.expire_hold(late)
    hold(organiser, package_10k, title="Took the slot", start_local=local_start(days=20, hour=15))
    live_stripe.act(payment.checkout_session_id, "pay_card")
    wait_for(lambda: Payment.objects.get(pk=payment.pk).refunded_minor == 900_000)
    payment.refresh_from_db()
    late.refresh_from_db()
    assert payment.late and payment.status == "refunded"
    assert late.status == "expired" and late.needs_attention
    assert not Invoice.objects.filter(payment=payment).exists()
    assert _used() == 13
    wait_for(lambda: any("refunded" in m.subject for m in mail.outbox))
