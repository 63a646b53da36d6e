"""What happens to a Checkout Session after creation: payment, bank transfer, expiry.

Shared by the hosted page (a person clicking) and the /_test JSON helpers (tests), so both
drive exactly the same transitions and emit the same events.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from localstripe.errors import UserError
from localstripe.resources import Customer, PaymentIntent, random_id, store

from devtools.stripe_emulator.checkout import ADDRESS_KEYS, CheckoutSession, all_sessions
from devtools.stripe_emulator.common import emit, invalid, now

logger = logging.getLogger("stripe_emulator.checkout")


class BankTransferPaymentIntent(PaymentIntent):
    """A `customer_balance` PaymentIntent waiting for the buyer's transfer.

    localstripe derives `status` from the payment method and charge; a bank transfer has
    neither until the money arrives, and Stripe reports `requires_action` meanwhile.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._awaiting_funds = True
        self._payment_method_types = ["customer_balance"]

    @property
    def status(self) -> str | None:
        if self._awaiting_funds and not self._canceled:
            return "requires_action"
        return super().status


@dataclass
class BuyerDetails:
    """What the buyer types into the hosted page (or a test posts to /_test/...)."""

    name: str | None = None
    email: str | None = None
    address: dict[str, str | None] = field(default_factory=dict)
    tax_id: str | None = None
    tax_id_type: str | None = None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> BuyerDetails:
        def text(value: Any) -> str | None:
            return (value.strip() or None) if isinstance(value, str) else None

        nested = params.get("address") if isinstance(params.get("address"), dict) else {}
        address = {
            key: text(nested.get(key)) or text(params.get(f"address_{key}")) for key in ADDRESS_KEYS
        }
        country = address.get("country")
        if country:
            address["country"] = country.upper()
        return cls(
            name=text(params.get("name")),
            email=text(params.get("email")),
            address={k: v for k, v in address.items() if v},
            tax_id=text(params.get("tax_id")),
            tax_id_type=text(params.get("tax_id_type")),
        )


def expire_session(session: CheckoutSession) -> None:
    if session.status != "open":
        raise invalid(
            f'Only Checkout Sessions with a status in ["open"] can be expired. This session '
            f'has a status of "{session.status}".',
            code="checkout_session_not_open",
        )
    session.status = "expired"
    session.url = None
    emit("checkout.session.expired", session)


def expire_due_sessions() -> None:
    current = now()
    for session in all_sessions():
        if session.status == "open" and session.expires_at <= current:
            logger.info("checkout session %s expired by itself", session.id)
            expire_session(session)


def set_expires_at(session: CheckoutSession, seconds: int) -> None:
    """Test helper: bring expiry closer than Stripe's 30-minute minimum allows."""
    if session.status != "open":
        raise invalid(
            "Only open Checkout Sessions can have their expiry moved.",
            code="checkout_session_not_open",
        )
    session.expires_at = now() + max(0, seconds)


def _ensure_open(session: CheckoutSession) -> None:
    if session.status == "open" and session.expires_at <= now():
        expire_session(session)
    if session.status != "open":
        raise invalid(
            f"This Checkout Session is no longer open (status: {session.status}).",
            code="checkout_session_not_open",
        )


def _require_method(session: CheckoutSession, method: str) -> None:
    if method not in session.payment_method_types:
        raise invalid(
            f"`{method}` is not among this session's payment_method_types.",
            param="payment_method_types",
        )


def _customer_details(session: CheckoutSession, buyer: BuyerDetails) -> dict[str, Any]:
    customer = store.get(f"customer:{session.customer}") if session.customer else None
    stored_address = getattr(customer, "address", None) or {}
    address = buyer.address or stored_address or {}
    tax_ids: list[dict[str, str]] = []
    if session.tax_id_collection.get("enabled") and buyer.tax_id:
        tax_ids.append({"type": buyer.tax_id_type or "eu_vat", "value": buyer.tax_id})
    else:  # the Customer's own, which the page did not ask for again
        stored = getattr(getattr(customer, "tax_ids", None), "_list", [])
        tax_ids = [{"type": str(t.type), "value": str(t.value)} for t in stored]
    return {
        "address": {key: address.get(key) for key in ADDRESS_KEYS} if address else None,
        "email": buyer.email or session.customer_email or getattr(customer, "email", None),
        "name": buyer.name or getattr(customer, "name", None),
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": tax_ids,
    }


def _ensure_customer(session: CheckoutSession, details: dict[str, Any]) -> str | None:
    if session.customer is None and session.customer_creation == "always":
        customer = Customer._api_create(email=details["email"], name=details["name"])
        session.customer = customer.id
    return session.customer


def _payment_intent_metadata(session: CheckoutSession) -> dict[str, str]:
    # Real Stripe copies only payment_intent_data[metadata]; the session's own metadata is
    # added here as a convenience and loses on key clashes.
    return {**session.metadata, **session._payment_intent_data.get("metadata", {})}


def _new_payment_intent_kwargs(session: CheckoutSession, customer: str | None) -> dict[str, Any]:
    return {
        "amount": session.amount_total,
        "currency": session.currency,
        "customer": customer,
        "metadata": _payment_intent_metadata(session),
    }


def _complete(session: CheckoutSession, details: dict[str, Any], pi: Any, *, paid: bool) -> None:
    pi.description = session._payment_intent_data.get("description") or (
        session._line_items[0]["description"] if len(session._line_items) == 1 else None
    )
    session.status = "complete"
    session.payment_status = "paid" if paid else "unpaid"
    session.payment_intent = pi.id
    session.customer_details = details
    session.url = None
    _apply_customer_update(session, details)


def _apply_customer_update(session: CheckoutSession, details: dict[str, Any]) -> None:
    if not session.customer:
        return
    changes: dict[str, Any] = {}
    if session._customer_update.get("name") == "auto" and details["name"]:
        changes["name"] = details["name"]
    if session._customer_update.get("address") == "auto" and details["address"]:
        changes["address"] = {k: v for k, v in details["address"].items() if v is not None}
    if changes:
        Customer._api_update(session.customer, **changes)


def pay_card(session: CheckoutSession, buyer: BuyerDetails) -> None:
    _ensure_open(session)
    _require_method(session, "card")
    details = _customer_details(session, buyer)
    customer = _ensure_customer(session, details)
    pi = PaymentIntent._api_create(
        confirm=True, payment_method="pm_card_visa", **_new_payment_intent_kwargs(session, customer)
    )
    # localstripe keeps the test alias; Stripe shows the concrete pm_ id it resolved to.
    pi.payment_method = pi.latest_charge.payment_method
    _complete(session, details, pi, paid=True)
    emit("checkout.session.completed", session)


def decline_card(session: CheckoutSession) -> str:
    """Returns the decline message; the session stays open, as on Stripe's hosted page."""
    _ensure_open(session)
    _require_method(session, "card")
    try:
        PaymentIntent._api_create(
            confirm=True,
            payment_method="pm_card_chargeCustomerFail",
            **_new_payment_intent_kwargs(session, session.customer or None),
        )
    except UserError as exc:
        return str(exc.body.get("error", {}).get("message") or "Your card was declined.")
    logger.warning("pm_card_chargeCustomerFail unexpectedly succeeded for %s", session.id)
    return "Your card was declined."


def bank_instructions(session: CheckoutSession, public_url: str) -> dict[str, Any]:
    transfer = session.payment_method_options.get("customer_balance", {}).get("bank_transfer", {})
    transfer_type = transfer.get("type", "eu_bank_transfer")
    holder = "Stripe Emulator (not a real account)"
    if transfer_type == "us_bank_transfer":
        addresses = [
            {
                "type": "aba",
                "supported_networks": ["ach", "domestic_wire_us"],
                "aba": {
                    "account_number": "000123456789",
                    "routing_number": "110000000",
                    "bank_name": "Emulator Bank",
                    "account_holder_name": holder,
                },
            }
        ]
    elif transfer_type == "gb_bank_transfer":
        addresses = [
            {
                "type": "sort_code",
                "supported_networks": ["bacs", "fps"],
                "sort_code": {
                    "account_number": "00012345",
                    "sort_code": "108800",
                    "account_holder_name": holder,
                },
            }
        ]
    else:
        country = transfer.get("eu_bank_transfer", {}).get("country", "DE")
        addresses = [
            {
                "type": "iban",
                "supported_networks": ["sepa"],
                "iban": {
                    "iban": f"{country}00EMUL0000000000000000",
                    "bic": "EMULDEFFXXX",
                    "country": country,
                    "account_holder_name": holder,
                },
            }
        ]
    return {
        "type": "display_bank_transfer_instructions",
        "display_bank_transfer_instructions": {
            "amount_remaining": session.amount_total,
            "currency": session.currency,
            "type": transfer_type,
            "reference": "EMU" + random_id(9).upper(),
            "financial_addresses": addresses,
            "hosted_instructions_url": f"{public_url}/checkout/pay/{session.id}",
        },
    }


def start_bank_transfer(session: CheckoutSession, buyer: BuyerDetails, public_url: str) -> None:
    _ensure_open(session)
    _require_method(session, "customer_balance")
    details = _customer_details(session, buyer)
    customer = _ensure_customer(session, details)
    pi = BankTransferPaymentIntent(**_new_payment_intent_kwargs(session, customer))
    pi.next_action = bank_instructions(session, public_url)
    _complete(session, details, pi, paid=False)
    emit("checkout.session.completed", session)


def awaiting_transfer(session: CheckoutSession) -> BankTransferPaymentIntent | None:
    if session.status != "complete" or session.payment_status != "unpaid":
        return None
    pi = store.get(f"payment_intent:{session.payment_intent}")
    if isinstance(pi, BankTransferPaymentIntent) and pi.status == "requires_action":
        return pi
    return None


def _require_awaiting_transfer(session: CheckoutSession) -> BankTransferPaymentIntent:
    pi = awaiting_transfer(session)
    if pi is None:
        raise invalid(
            "This Checkout Session has no bank transfer awaiting funds "
            f"(status: {session.status}, payment_status: {session.payment_status}).",
            code="checkout_session_not_awaiting_funds",
        )
    return pi


def funds_received(session: CheckoutSession) -> None:
    pi = _require_awaiting_transfer(session)
    pi._awaiting_funds = False
    pi.next_action = None
    # localstripe can only settle through a payment method; the Charge is then relabelled.
    pi.payment_method = "pm_card_visa"
    pi._confirm(on_failure_now=pi._report_failure)
    charge = pi.latest_charge
    charge.payment_method_details = {"type": "customer_balance", "customer_balance": {}}
    pi.payment_method = charge.payment_method
    session.payment_status = "paid"
    emit("checkout.session.async_payment_succeeded", session)


def transfer_failed(session: CheckoutSession) -> None:
    pi = _require_awaiting_transfer(session)
    pi._awaiting_funds = False
    pi.next_action = None
    pi._canceled = True
    pi.cancellation_reason = "abandoned"
    emit("payment_intent.canceled", pi)
    emit("checkout.session.async_payment_failed", session)
