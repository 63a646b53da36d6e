"""The local Stripe emulator (devtools.stripe_emulator), driven through the real stripe SDK.

No Django and no database: the emulator runs as a subprocess and a tiny HTTP server collects
its webhooks.
"""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_test"
PRICE = 3_000_000  # $30,000.00


class Collector:
    """Records webhook deliveries; answers 500 to the first N deliveries about chosen objects."""

    def __init__(self) -> None:
        self.deliveries: list[dict[str, Any]] = []
        self.fail_for: dict[str, int] = {}
        self.changed = threading.Condition()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event = json.loads(body)
                object_id = event["data"]["object"].get("id")
                with collector.changed:
                    status = 200
                    if self.path == "/hook" and collector.fail_for.get(object_id, 0) > 0:
                        collector.fail_for[object_id] -= 1
                        status = 500
                    collector.deliveries.append(
                        {
                            "body": body,
                            "event": event,
                            "status": status,
                            "path": self.path,
                            "at": time.monotonic(),
                            "signature": self.headers["Stripe-Signature"],
                            "content_type": self.headers["Content-Type"],
                        }
                    )
                    collector.changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def matching(
        self, event_type: str, object_id: str, path: str = "/hook"
    ) -> list[dict[str, Any]]:
        return [
            d
            for d in self.deliveries
            if d["event"]["type"] == event_type
            and d["event"]["data"]["object"].get("id") == object_id
            and d["path"] == path
        ]

    def wait_for(
        self,
        event_type: str,
        object_id: str,
        count: int = 1,
        timeout: float = 8.0,
        path: str = "/hook",
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(found := self.matching(event_type, object_id, path)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [
                        (d["event"]["type"], d["event"]["data"]["object"].get("id"))
                        for d in self.deliveries
                    ]
                    raise AssertionError(f"no {event_type} for {object_id}; got {seen}")
                self.changed.wait(remaining)
            return found


def _start(args: list[str], log: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.stripe_emulator", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 15)
    line = proc.stdout.readline() if ready else ""
    if not line.startswith("stripe-emulator listening on http://127.0.0.1:"):
        proc.kill()
        raise AssertionError(f"emulator not ready: {line!r}\n{log.read_text()}")
    return proc, line.rsplit(" ", 1)[1].strip()


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    collector = Collector()
    yield collector
    collector.server.shutdown()


@pytest.fixture(scope="module")
def emulator(collector: Collector, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("stripe_emulator") / "emulator.log"
    proc, url = _start(
        [
            "--port",
            "0",
            "--webhook-url",
            collector.url,
            "--webhook-secret",
            SECRET,
            "--webhook-delay",
            "0.05",
        ],
        log,
    )
    yield url
    assert _stop(proc) == 0, log.read_text()


@pytest.fixture(scope="module")
def client(emulator: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_emulator", base_addresses={"api": emulator}, max_network_retries=0
    )


def _session(client: stripe.StripeClient, **overrides: Any) -> Any:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": PRICE,
                    "product_data": {"name": "Mega webinar 100k"},
                },
                "quantity": 1,
            }
        ],
        "client_reference_id": "order-1",
        "metadata": {"order": "order-1"},
        "success_url": "http://127.0.0.1:8000/done?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:8000/cancelled",
        "expires_at": int(time.time()) + 3600,
        "customer_email": "buyer@acme.example",
        "payment_method_types": ["card"],
        "billing_address_collection": "required",
        "locale": "en",
    }
    params.update(overrides)
    options = params.pop("options", None)
    return client.v1.checkout.sessions.create(params=params, options=options)


def _bank_session(client: stripe.StripeClient) -> Any:
    customer = client.v1.customers.create(params={"email": "ap@acme.example", "name": "Acme"})
    return _session(
        client,
        customer=customer.id,
        customer_email=None,
        payment_method_types=["card", "customer_balance"],
        payment_method_options={
            "customer_balance": {
                "funding_type": "bank_transfer",
                "bank_transfer": {"type": "us_bank_transfer"},
            }
        },
    )


def _test_action(emulator: str, path: str, status: int = 200, **data: Any) -> dict[str, Any]:
    response = requests.post(f"{emulator}/_test/{path}", json=data, timeout=10)
    assert response.status_code == status, response.text
    return response.json()


def _paid_session(client: stripe.StripeClient, emulator: str) -> tuple[Any, Any]:
    session = _session(client)
    _test_action(emulator, f"checkout/sessions/{session.id}/pay_card")
    pi = client.v1.payment_intents.retrieve(
        client.v1.checkout.sessions.retrieve(session.id).payment_intent
    )
    return session, pi


def test_create_and_retrieve_session(client: stripe.StripeClient, emulator: str) -> None:
    session = _session(
        client,
        payment_intent_data={"metadata": {"order": "order-1"}},
        tax_id_collection={"enabled": True},
        some_future_param="ignored",
    )
    assert session.id.startswith("cs_test_")
    assert (session.object, session.mode, session.status) == ("checkout.session", "payment", "open")
    assert session.payment_status == "unpaid"
    assert session.amount_total == session.amount_subtotal == PRICE
    assert session.currency == "usd"
    assert session.client_reference_id == "order-1"
    assert session.metadata.to_dict() == {"order": "order-1"}
    assert session.payment_intent is None
    assert session.customer_details is None
    assert session.url == f"{emulator}/checkout/pay/{session.id}"
    assert session.livemode is False
    assert "line_items" not in session

    again = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})
    assert again.id == session.id
    assert again.line_items.data[0].price.unit_amount == PRICE
    assert again.line_items.data[0].description == "Mega webinar 100k"

    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert missing.value.code == "resource_missing"


@pytest.mark.parametrize("offset", [60, 25 * 3600, -10])
def test_expires_at_outside_stripe_window_is_rejected(
    client: stripe.StripeClient, offset: int
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as error:
        _session(client, expires_at=int(time.time()) + offset)
    assert error.value.param == "expires_at"
    assert error.value.http_status == 400


def test_other_validation_errors(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as error:
        _session(client, mode="subscription")
    assert error.value.param == "mode"
    with pytest.raises(stripe.InvalidRequestError) as error:
        _session(
            client,
            line_items=[
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 0,
                        "product_data": {"name": "x"},
                    },
                    "quantity": 1,
                }
            ],
        )
    assert error.value.param == "line_items[0][price_data][unit_amount]"
    with pytest.raises(stripe.InvalidRequestError) as error:
        _session(client, payment_method_types=["customer_balance"])
    assert error.value.param == "customer"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.prices.create(params={"currency": "usd", "unit_amount": 1})


def test_idempotency_key_returns_the_same_session(client: stripe.StripeClient) -> None:
    expires_at = int(time.time()) + 3600
    first = _session(client, expires_at=expires_at, options={"idempotency_key": "order-7:1"})
    second = _session(client, expires_at=expires_at, options={"idempotency_key": "order-7:1"})
    assert first.id == second.id
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError):
        _session(
            client,
            expires_at=expires_at,
            client_reference_id="other",
            options={"idempotency_key": "order-7:1"},
        )
    assert _session(client, expires_at=expires_at).id != first.id


def test_card_payment_completes_and_signed_webhook_verifies(
    client: stripe.StripeClient, emulator: str, collector: Collector
) -> None:
    customer = client.v1.customers.create(params={"email": "ap@acme.example", "name": "Acme"})
    session = _session(
        client,
        customer=customer.id,
        customer_email=None,
        payment_intent_data={"metadata": {"booking": "b-1"}},
        customer_update={"address": "auto", "name": "auto"},
        tax_id_collection={"enabled": True},
    )
    paid = _test_action(
        emulator,
        f"checkout/sessions/{session.id}/pay_card",
        name="Acme Campaigns Inc",
        email="ap@acme.example",
        tax_id="DE123456789",
        address={"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "de"},
    )
    assert (paid["status"], paid["payment_status"]) == ("complete", "paid")

    session = client.v1.checkout.sessions.retrieve(session.id)
    assert session.payment_intent.startswith("pi_")
    assert session.customer_details.name == "Acme Campaigns Inc"
    assert session.customer_details.address.country == "DE"
    assert session.customer_details.tax_ids[0].value == "DE123456789"
    assert session.url is None

    pi = client.v1.payment_intents.retrieve(session.payment_intent)
    assert (pi.status, pi.amount, pi.amount_received, pi.currency) == (
        "succeeded",
        PRICE,
        PRICE,
        "usd",
    )
    assert pi.customer == customer.id
    assert pi.metadata.to_dict() == {"order": "order-1", "booking": "b-1"}
    assert pi.latest_charge.startswith("ch_")
    assert client.v1.customers.retrieve(customer.id).address.city == "Berlin"

    delivery = collector.wait_for("checkout.session.completed", session.id)[0]
    assert delivery["content_type"].startswith("application/json")
    event = stripe.Webhook.construct_event(delivery["body"].decode(), delivery["signature"], SECRET)
    assert event.type == "checkout.session.completed"
    assert event.id.startswith("evt_")
    assert event.api_version == stripe.api_version
    assert (event.object, event.livemode) == ("event", False)
    assert event.data.object.payment_status == "paid"
    assert event.data.object.payment_intent == pi.id
    assert event.data.object.client_reference_id == "order-1"
    assert client.v1.events.retrieve(event.id).type == "checkout.session.completed"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            delivery["body"].decode(), delivery["signature"], "whsec_wrong"
        )

    # localstripe's own events reach the CLI-registered endpoint too.
    collector.wait_for("customer.created", customer.id)
    collector.wait_for("payment_intent.succeeded", pi.id)

    _test_action(emulator, f"checkout/sessions/{session.id}/pay_card", status=400)


def test_declined_card_leaves_session_open(
    client: stripe.StripeClient, emulator: str, collector: Collector
) -> None:
    session = _session(client)
    declined = _test_action(emulator, f"checkout/sessions/{session.id}/decline_card")
    assert (declined["status"], declined["payment_status"]) == ("open", "unpaid")
    assert client.v1.checkout.sessions.retrieve(session.id).payment_intent is None
    time.sleep(0.3)
    assert not collector.matching("checkout.session.completed", session.id)


def test_bank_transfer_then_funds_received(
    client: stripe.StripeClient, emulator: str, collector: Collector
) -> None:
    session = _bank_session(client)
    pending = _test_action(emulator, f"checkout/sessions/{session.id}/bank_transfer")
    assert (pending["status"], pending["payment_status"]) == ("complete", "unpaid")
    pi = client.v1.payment_intents.retrieve(pending["payment_intent"])
    assert pi.status == "requires_action"
    assert pi.payment_method_types == ["customer_balance"]
    instructions = pi.next_action.display_bank_transfer_instructions
    assert instructions.amount_remaining == PRICE
    assert instructions.financial_addresses[0].type == "aba"
    completed = collector.wait_for("checkout.session.completed", session.id)[0]["event"]
    assert completed["data"]["object"]["payment_status"] == "unpaid"

    page = requests.get(f"{emulator}/checkout/pay/{session.id}", timeout=10).text
    assert instructions.reference in page
    assert "Funds received" in page

    paid = _test_action(emulator, f"checkout/sessions/{session.id}/funds_received")
    assert paid["payment_status"] == "paid"
    assert paid["payment_intent"] == pi.id
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "succeeded"
    assert pi.latest_charge.startswith("ch_")
    event = collector.wait_for("checkout.session.async_payment_succeeded", session.id)[0]["event"]
    assert event["data"]["object"]["payment_status"] == "paid"
    _test_action(emulator, f"checkout/sessions/{session.id}/funds_received", status=400)


def test_bank_transfer_failed(
    client: stripe.StripeClient, emulator: str, collector: Collector
) -> None:
    session = _bank_session(client)
    _test_action(emulator, f"checkout/sessions/{session.id}/bank_transfer")
    failed = _test_action(emulator, f"checkout/sessions/{session.id}/transfer_failed")
    assert (failed["status"], failed["payment_status"]) == ("complete", "unpaid")
    assert client.v1.payment_intents.retrieve(failed["payment_intent"]).status == "canceled"
    collector.wait_for("checkout.session.async_payment_failed", session.id)


def test_expire_endpoint(client: stripe.StripeClient, collector: Collector) -> None:
    session = _session(client)
    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    collector.wait_for("checkout.session.expired", session.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)


def test_session_expires_by_itself(
    client: stripe.StripeClient, emulator: str, collector: Collector
) -> None:
    session = _session(client)
    moved = _test_action(emulator, f"checkout/sessions/{session.id}/expire_in", seconds=1)
    assert moved["expires_at"] <= time.time() + 1
    event = collector.wait_for("checkout.session.expired", session.id, timeout=5)[0]["event"]
    assert event["data"]["object"]["status"] == "expired"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    _test_action(emulator, f"checkout/sessions/{session.id}/pay_card", status=400)


def test_refund_emits_events_and_honours_idempotency(
    client: stripe.StripeClient, emulator: str, collector: Collector
) -> None:
    _, pi = _paid_session(client, emulator)
    params = {"payment_intent": pi.id, "amount": 500_000, "reason": "requested_by_customer"}
    refund = client.v1.refunds.create(params=params, options={"idempotency_key": "refund-1"})
    again = client.v1.refunds.create(params=params, options={"idempotency_key": "refund-1"})
    assert again.id == refund.id
    assert (refund.status, refund.amount, refund.payment_intent) == ("succeeded", 500_000, pi.id)

    created = collector.wait_for("refund.created", refund.id)[0]["event"]["data"]["object"]
    assert (created["payment_intent"], created["currency"]) == (pi.id, "usd")
    charge = collector.wait_for("charge.refunded", pi.latest_charge)[0]["event"]["data"]["object"]
    assert (charge["amount_refunded"], charge["refunded"]) == (500_000, False)
    assert charge["payment_intent"] == pi.id
    assert client.v1.charges.retrieve(pi.latest_charge).amount_refunded == 500_000

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": PRICE})
    assert too_much.value.param == "amount"


def test_failed_refund(client: stripe.StripeClient, emulator: str, collector: Collector) -> None:
    _, pi = _paid_session(client, emulator)
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    failed = _test_action(emulator, f"refunds/{refund.id}/fail")
    assert (failed["status"], failed["failure_reason"]) == ("failed", "insufficient_funds")
    event = collector.wait_for("refund.failed", refund.id)[0]["event"]
    assert event["data"]["object"]["status"] == "failed"
    collector.wait_for("refund.updated", refund.id)
    assert client.v1.refunds.retrieve(refund.id).status == "failed"
    assert client.v1.charges.retrieve(pi.latest_charge).amount_refunded == 0


def test_dispute(client: stripe.StripeClient, emulator: str, collector: Collector) -> None:
    _, pi = _paid_session(client, emulator)
    dispute = _test_action(emulator, f"payment_intents/{pi.id}/dispute")
    assert dispute["id"].startswith("dp_")
    event = collector.wait_for("charge.dispute.created", dispute["id"])[0]["event"]
    obj = event["data"]["object"]
    assert (obj["charge"], obj["payment_intent"], obj["amount"]) == (pi.latest_charge, pi.id, PRICE)
    assert (obj["reason"], obj["status"], obj["currency"]) == (
        "fraudulent",
        "needs_response",
        "usd",
    )
    assert client.v1.disputes.retrieve(dispute["id"]).status == "needs_response"


def test_hosted_page(client: stripe.StripeClient, emulator: str, collector: Collector) -> None:
    session = _session(client)
    page = requests.get(session.url, timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "$30,000.00 USD" in page.text
    assert "Mega webinar 100k" in page.text
    assert "Pay by bank transfer" not in page.text

    declined = requests.post(f"{session.url}/decline", data={}, allow_redirects=False, timeout=10)
    assert declined.status_code == 303
    assert (
        "Your card was declined."
        in requests.get(emulator + declined.headers["Location"], timeout=10).text
    )

    paid = requests.post(
        f"{session.url}/card",
        allow_redirects=False,
        timeout=10,
        data={
            "email": "buyer@acme.example",
            "name": "Acme",
            "address_line1": "1 Main St",
            "address_city": "Springfield",
            "address_postal_code": "12345",
            "address_country": "US",
        },
    )
    assert paid.status_code == 303
    assert paid.headers["Location"] == f"http://127.0.0.1:8000/done?session={session.id}"
    event = collector.wait_for("checkout.session.completed", session.id)[0]["event"]
    assert event["data"]["object"]["customer_details"]["address"]["city"] == "Springfield"
    assert "Payment complete" in requests.get(session.url, timeout=10).text


def test_webhook_retried_after_a_failure(client: stripe.StripeClient, collector: Collector) -> None:
    session = _session(client)
    collector.fail_for[session.id] = 1
    client.v1.checkout.sessions.expire(session.id)
    first, second = collector.wait_for("checkout.session.expired", session.id, count=2)
    assert (first["status"], second["status"]) == (500, 200)
    assert first["event"]["id"] == second["event"]["id"]
    assert second["at"] - first["at"] >= 0.4
    stripe.Webhook.construct_event(second["body"].decode(), second["signature"], SECRET)


def test_cli_refuses_non_loopback_host() -> None:
    wildcard = "0.0.0.0"  # noqa: S104 - the address the emulator must refuse
    result = subprocess.run(
        [sys.executable, "-m", "devtools.stripe_emulator", "--host", wildcard],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )
    assert result.returncode == 2
    assert "loopback" in result.stderr


def test_min_expiry_flag_allows_fast_expiry(tmp_path: Path) -> None:
    proc, url = _start(["--port", "0", "--min-expiry-seconds", "1"], tmp_path / "log")
    try:
        fast = stripe.StripeClient(
            "sk_test_emulator", base_addresses={"api": url}, max_network_retries=0
        )
        session = _session(fast, expires_at=int(time.time()) + 2)
        deadline = time.monotonic() + 6
        while fast.v1.checkout.sessions.retrieve(session.id).status == "open":
            assert time.monotonic() < deadline, "session did not expire"
            time.sleep(0.2)
    finally:
        assert _stop(proc) == 0


def test_config_routes_still_work(
    client: stripe.StripeClient, emulator: str, collector: Collector
) -> None:
    """Runs last in the module: it adds an endpoint and wipes the store."""
    second = collector.url.replace("/hook", "/hook2")
    registered = requests.post(
        f"{emulator}/_config/webhooks/second",
        timeout=10,
        data={"url": second, "secret": "whsec_second", "events[]": ["checkout.session.expired"]},
    )
    assert registered.status_code == 200
    session = _session(client)
    client.v1.checkout.sessions.expire(session.id)
    delivery = collector.wait_for("checkout.session.expired", session.id, path="/hook2")[0]
    stripe.Webhook.construct_event(delivery["body"].decode(), delivery["signature"], "whsec_second")

    assert requests.delete(f"{emulator}/_config/data", timeout=10).status_code == 200
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.retrieve(session.id)


def _customer_on_file(client: stripe.StripeClient) -> Any:
    return client.v1.customers.create(
        params={
            "email": "ap@kobenhavn.example",
            "name": "Copenhagen Live ApS",
            "address": {
                "line1": "Vesterbrogade 1",
                "city": "Copenhagen",
                "postal_code": "1620",
                "country": "DK",
            },
            "tax_id_data": [{"type": "eu_vat", "value": "DK13585628"}],
        }
    )


def test_customers_carry_an_address_and_stripe_tax_id_types(client: stripe.StripeClient) -> None:
    customer = _customer_on_file(client)
    assert customer.address.country == "DK"
    (tax_id,) = client.v1.customers.tax_ids.list(customer.id).data
    assert (tax_id.type, tax_id.value, tax_id.country) == ("eu_vat", "DK13585628", "DK")
    added = client.v1.customers.tax_ids.create(
        customer.id, params={"type": "gb_vat", "value": "GB980780684"}
    )
    assert added.country == "GB"
    client.v1.customers.tax_ids.delete(customer.id, tax_id.id)
    assert [t.value for t in client.v1.customers.tax_ids.list(customer.id).data] == ["GB980780684"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.tax_ids.create(customer.id, params={"type": "eu_vat", "value": "x"})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.create(params={"tax_id_data": [{"type": "vat", "value": "DK1"}]})
    with pytest.raises(stripe.InvalidRequestError):
        _session(client, customer=customer.id, customer_email=None, customer_update={"name": "x"})


def test_hosted_page_does_not_ask_again_for_what_the_customer_has(
    client: stripe.StripeClient, emulator: str, collector: Collector
) -> None:
    customer = _customer_on_file(client)
    session = _session(
        client,
        customer=customer.id,
        customer_email=None,
        billing_address_collection="auto",
        tax_id_collection={"enabled": True},
        customer_update={"address": "never", "name": "never"},
    )
    page = requests.get(session.url, timeout=10).text
    for field in ("address_line1", "address_city", "address_postal_code", "address_country"):
        assert f'name="{field}"' not in page
    assert 'name="tax_id"' not in page
    assert "Vesterbrogade 1, 1620 Copenhagen, DK" in page and "DK13585628" in page

    paid = requests.post(
        f"{session.url}/card",
        data={"email": "ap@kobenhavn.example", "name": "Copenhagen Live ApS"},
        allow_redirects=False,
        timeout=10,
    )
    assert paid.status_code == 303
    event = collector.wait_for("checkout.session.completed", session.id)[0]["event"]
    details = event["data"]["object"]["customer_details"]
    assert details["address"]["line1"] == "Vesterbrogade 1"
    assert details["tax_ids"] == [{"type": "eu_vat", "value": "DK13585628"}]
    assert client.v1.customers.retrieve(customer.id).address.line1 == "Vesterbrogade 1"

    # A session that requires the address asks for it, prefilled from the Customer.
    required = _session(client, customer=customer.id, customer_email=None)
    page = requests.get(required.url, timeout=10).text
    assert 'name="address_line1" value="Vesterbrogade 1" required' in page
