"""The webhook endpoint: forged, duplicated and reordered deliveries change nothing.

Events are the emulator's real ones (its manual instance delivers nothing), re-signed here
with the SDK's own signer so the endpoint's real verification code checks them."""

import threading

from django.db import connections
from django.test import Client

from billing.models import Invoice, Payment, StripeEvent
from billing.services.checkout import start_checkout
from tests.billing.conftest import deliver
from tests.conftest import hold
from webinars.models import AuditEntry, Webinar


def _checkout_events(emulator, session_id: str) -> list[dict]:
    return [
        e
        for e in emulator.events()
        if e["type"].startswith("checkout.session.") and e["data"]["object"]["id"] == session_id
    ]


def test_forged_signature_is_rejected_and_nothing_is_stored(
    client, manual_stripe, organiser, package_10k
):
    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    manual_stripe.act(payment.checkout_session_id, "pay_card")
    (event,) = _checkout_events(manual_stripe, payment.checkout_session_id)
    forged = deliver(client, event, secret="whsec_attacker")
    assert forged.status_code == 400
    missing = client.post("/billing/stripe/webhook/", data=b"{}", content_type="application/json")
    assert missing.status_code == 400
    assert not StripeEvent.objects.exists()
    webinar.refresh_from_db()
    assert webinar.status == "held"


def test_tampered_body_is_rejected(client, manual_stripe, organiser, package_10k):
    from tests.billing.conftest import signed

    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    manual_stripe.act(payment.checkout_session_id, "pay_card")
    (event,) = _checkout_events(manual_stripe, payment.checkout_session_id)
    body, header = signed(event)
    response = client.post(
        "/billing/stripe/webhook/",
        data=body.replace(b"paid", b"PAID"),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_duplicated_event_is_processed_once(client, manual_stripe, organiser, package_10k):
    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    manual_stripe.act(payment.checkout_session_id, "pay_card")
    (event,) = _checkout_events(manual_stripe, payment.checkout_session_id)
    for _ in range(3):
        assert deliver(client, event).status_code == 200
    assert StripeEvent.objects.get().status == "processed"
    assert AuditEntry.objects.filter(action="payment.succeeded").count() == 1
    assert AuditEntry.objects.filter(action="webinar.confirmed").count() == 1
    assert Invoice.objects.filter(payment=payment).count() == 1


def test_out_of_order_bank_transfer_events_end_in_the_right_state(
    client, manual_stripe, organiser, package_10k
):
    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    manual_stripe.act(payment.checkout_session_id, "bank_transfer")
    manual_stripe.act(payment.checkout_session_id, "funds_received")
    events = _checkout_events(manual_stripe, payment.checkout_session_id)
    assert [e["type"] for e in events] != [] and len(events) == 2
    # Newest first: "async_payment_succeeded" arrives before "completed".
    events.sort(key=lambda e: e["type"] == "checkout.session.completed", reverse=False)
    assert events[0]["type"] == "checkout.session.async_payment_succeeded"
    for event in events:
        assert deliver(client, event).status_code == 200
    webinar.refresh_from_db()
    payment.refresh_from_db()
    assert webinar.status == "confirmed"
    assert payment.status == "succeeded"
    assert StripeEvent.objects.filter(status="processed").count() == 2


def test_events_of_unhandled_types_are_stored_and_ignored(client, manual_stripe, db):
    event = {
        "id": "evt_unhandled_1",
        "object": "event",
        "type": "customer.created",
        "created": 1_800_000_000,
        "data": {"object": {"id": "cus_1"}},
    }
    assert deliver(client, event).status_code == 200
    assert StripeEvent.objects.get().status == "ignored"


def test_concurrent_duplicate_deliveries_process_once(
    transactional_db, settings, stripe_manual, organiser, package_10k
):
    from tests.billing.conftest import _configure

    _configure(settings, stripe_manual, "http://testserver")
    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    stripe_manual.act(payment.checkout_session_id, "pay_card")
    (event,) = _checkout_events(stripe_manual, payment.checkout_session_id)
    statuses: list[int] = []
    barrier = threading.Barrier(5)

    def deliverer() -> None:
        try:
            barrier.wait()
            statuses.append(deliver(Client(), event).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliverer) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert statuses == [200] * 5
    assert AuditEntry.objects.filter(action="payment.succeeded").count() == 1
    assert Invoice.objects.filter(payment=payment).count() == 1
    assert Payment.objects.get(pk=payment.pk).status == "succeeded"
    assert Webinar.objects.get(pk=webinar.pk).status == "confirmed"


def test_a_stripe_customer_that_vanished_is_replaced(manual_stripe, organiser, package_10k):
    from billing.models import StripeCustomer

    StripeCustomer.objects.create(
        organisation=organiser.membership.organisation, stripe_id="cus_deleted_in_dashboard"
    )
    payment = start_checkout(hold(organiser, package_10k), actor=organiser)
    assert payment.checkout_session_id
    customer = StripeCustomer.objects.get()
    assert customer.stripe_id != "cus_deleted_in_dashboard"
    assert AuditEntry.objects.filter(action="stripe_customer.replaced").count() == 1


def test_an_event_stored_while_the_broker_was_down_is_picked_up_by_the_sweeper(
    client, manual_stripe, organiser, package_10k, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from billing import tasks

    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    manual_stripe.act(payment.checkout_session_id, "pay_card")
    (event,) = _checkout_events(manual_stripe, payment.checkout_session_id)

    def broker_down(**kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.process_stripe_event_task, "delay", broker_down)
    client.raise_request_exception = False
    assert deliver(client, event).status_code == 500
    assert deliver(client, event).status_code == 200  # Stripe's retry: a duplicate now
    monkeypatch.undo()
    StripeEvent.objects.update(received_at=timezone.now() - timedelta(minutes=5))
    assert tasks.retry_stuck_events_task() == 1
    webinar.refresh_from_db()
    assert webinar.status == "confirmed"
    assert StripeEvent.objects.get().status == "processed"


def test_a_hold_cannot_be_stretched_by_checkout_again_and_again(
    manual_stripe, organiser, package_10k
):
    from datetime import timedelta

    import pytest
    from django.utils import timezone

    from billing.errors import BillingError

    webinar = hold(organiser, package_10k)
    first = start_checkout(webinar, actor=organiser)
    # Near the end of the stretched hold, the organiser asks for a fresh session.
    Payment.objects.filter(pk=first.pk).update(status="expired")
    Webinar.objects.filter(pk=webinar.pk).update(
        created_at=timezone.now() - timedelta(minutes=45),
        hold_expires_at=timezone.now() + timedelta(minutes=5),
    )
    with pytest.raises(BillingError) as exc_info:
        start_checkout(webinar, actor=organiser)
    assert exc_info.value.code == "hold_ending"
    webinar.refresh_from_db()
    assert webinar.hold_expires_at < timezone.now() + timedelta(minutes=6)
