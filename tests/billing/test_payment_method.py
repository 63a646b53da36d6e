"""The payment method is recorded from what Stripe says paid, through the real emulator
flow, and the admin shows it (a paid card payment never reads "Not chosen yet")."""

from billing.models import Payment
from billing.services.checkout import bank_transfer_available, start_checkout
from tests.billing.conftest import wait_for
from tests.conftest import hold


def _paid(payment: Payment) -> Payment:
    return wait_for(lambda: Payment.objects.filter(pk=payment.pk, status="succeeded").first())


def test_a_paid_card_payment_is_recorded_as_card_and_the_admin_shows_it(
    live_stripe, organiser, staff, package_10k, client
):
    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    # The session offered both methods; the buyer chose the card.
    session = live_stripe.get(f"/v1/checkout/sessions/{payment.checkout_session_id}")
    assert bank_transfer_available(webinar, webinar.created_at)
    assert set(session["payment_method_types"]) == {"card", "customer_balance"}
    live_stripe.act(payment.checkout_session_id, "pay_card")
    paid = _paid(payment)
    assert paid.method == Payment.Method.CARD

    client.force_login(staff)
    page = client.get(f"/admin/billing/payment/{paid.pk}/change/")
    assert page.status_code == 200
    assert "Card" in page.text and "Not chosen yet" not in page.text
    listed = client.get("/admin/billing/payment/", {"method__exact": "card"})
    assert f"/admin/billing/payment/{paid.pk}/change/" in listed.text
    assert "Card" in listed.text


def test_a_funded_bank_transfer_stays_recorded_as_bank_transfer(
    live_stripe, organiser, package_10k
):
    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    live_stripe.act(payment.checkout_session_id, "bank_transfer")
    wait_for(lambda: Payment.objects.filter(pk=payment.pk, status="awaiting_funds").exists())
    live_stripe.act(payment.checkout_session_id, "funds_received")
    assert _paid(payment).method == Payment.Method.BANK_TRANSFER
