"""Correctly signed bodies that are not Stripe events, NUL characters and signatures from
the future: a clear 400 and nothing written, never a 500; a real event that carries a NUL
inside a string is still stored and processed."""

import json
import time

import pytest
import stripe

from billing.models import StripeEvent
from billing.services.checkout import start_checkout
from tests.billing.conftest import SECRET, deliver
from tests.conftest import hold
from webinars.models import AuditEntry

GOOD = {
    "id": "evt_shape_1",
    "object": "event",
    "type": "customer.created",
    "created": 1_800_000_000,
    "data": {"object": {"id": "cus_1"}},
}


def _deep_text(depth: int) -> str:
    # Built as text: json.dumps itself would hit the recursion limit.
    return (
        '{"id": "evt_deep", "object": "event", "type": "customer.created", '
        '"created": 1800000000, "data": {"object": '
        + '{"a": ' * depth
        + '{"id": "cus_1"}'
        + "}" * depth
        + "}}"
    )


BAD_BODIES = {
    name: json.dumps(event)
    for name, event in {
        "type is a list": GOOD | {"type": ["checkout.session.completed"]},
        "type is null": GOOD | {"type": None},
        "type is empty": GOOD | {"type": ""},
        "id is an object": GOOD | {"id": {"evt": 1}},
        "id is a number": GOOD | {"id": 42},
        "created is a string": GOOD | {"created": "yesterday"},
        "created is a float": GOOD | {"created": 1.5e9},
        "created is out of range": GOOD | {"created": 10**20},
        "data is a list": GOOD | {"data": [{"object": {"id": "cus_1"}}]},
        "data.object is a string": GOOD | {"data": {"object": "cus_1"}},
        "no data": {k: v for k, v in GOOD.items() if k != "data"},
        "NUL in the id": GOOD | {"id": "evt_\u0000x"},
        "NUL in the type": GOOD | {"type": "customer.\u0000created"},
        "lone surrogate in the id": GOOD | {"id": "evt_\ud800"},
        "NUL in a handled object's id": GOOD
        | {"type": "refund.updated", "data": {"object": {"id": "re_\u0000"}}},
        "handled type without object id": GOOD
        | {"type": "checkout.session.completed", "data": {"object": {"status": "complete"}}},
    }.items()
} | {"deeply nested": _deep_text(5000), "moderately deep": _deep_text(100)}


def _post(client, body: bytes, header: str):
    return client.post(
        "/billing/stripe/webhook/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )


def _signed_raw(text: str, *, timestamp: int | None = None) -> tuple[bytes, str]:
    header = stripe.WebhookSignature.generate_signature_header(text, SECRET, timestamp=timestamp)
    return text.encode(), header


@pytest.mark.parametrize("text", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_signed_body_that_is_not_a_stripe_event_is_refused_and_nothing_is_stored(
    client, manual_stripe, text
):
    response = _post(client, *_signed_raw(text))
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_body_that_is_not_a_json_object_is_refused(client, manual_stripe):
    for text in ("[]", '"evt"', "null", "42", '{"id": "evt_1", "type": "x"'):
        assert _post(client, *_signed_raw(text)).status_code == 400
    assert not StripeEvent.objects.exists()


def test_an_unhandled_event_with_nul_characters_is_stored_without_them(client, manual_stripe):
    event = GOOD | {
        "id": "evt_nul_unhandled",
        "data": {"object": {"id": "cus_1", "name": "Acme\u0000 Inc", "meta\u0000": "\ud800x"}},
    }
    assert deliver(client, event).status_code == 200
    stored = StripeEvent.objects.get()
    assert stored.status == "ignored"
    obj = stored.payload["data"]["object"]
    assert obj["name"] == "Acme\ufffd Inc" and obj["meta\ufffd"] == "\ufffdx"


def test_a_real_event_carrying_a_nul_is_stored_and_processed(
    client, manual_stripe, organiser, package_10k
):
    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)
    manual_stripe.post(
        f"/_test/checkout/sessions/{payment.checkout_session_id}/pay_card",
        {"name": "Dupont\u0000 SA"},
    )
    (event,) = [
        e
        for e in manual_stripe.events("checkout.session.completed")
        if e["data"]["object"]["id"] == payment.checkout_session_id
    ]
    assert event["data"]["object"]["customer_details"]["name"] == "Dupont\u0000 SA"
    assert deliver(client, event).status_code == 200
    stored = StripeEvent.objects.get()
    assert stored.status == "processed"
    assert stored.payload["data"]["object"]["customer_details"]["name"] == "Dupont\ufffd SA"
    webinar.refresh_from_db()
    payment.refresh_from_db()
    assert webinar.status == "confirmed" and payment.status == "succeeded"


def test_a_signature_dated_beyond_the_tolerance_in_the_future_is_refused(
    client, manual_stripe, settings
):
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
    text = json.dumps(GOOD)
    future = int(time.time()) + tolerance + 120
    assert _post(client, *_signed_raw(text, timestamp=future)).status_code == 400
    past = int(time.time()) - tolerance - 120
    assert _post(client, *_signed_raw(text, timestamp=past)).status_code == 400
    assert not StripeEvent.objects.exists()
    # A little clock skew either way is still accepted.
    skewed = int(time.time()) + 30
    assert _post(client, *_signed_raw(text, timestamp=skewed)).status_code == 200
    assert StripeEvent.objects.count() == 1
