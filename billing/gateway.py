"""The only module that imports `stripe`. Everything else sees small typed records.

The client points at `STRIPE_API_BASE` (Stripe, or the local emulator) and every POST
carries a deterministic idempotency key derived from our own ids, so a retried task never
creates a second customer, session or refund.
"""

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, NoReturn

import stripe
from django.conf import settings

from billing.errors import BillingError, GatewayError, GatewayUnavailable
from webinars.countries import EU_MEMBER_STATES


class CustomerMissingError(GatewayError):
    """Our stored Stripe customer no longer exists there (deleted, or another account)."""

    def __init__(self, customer: str, reason: str) -> None:
        super().__init__("customer_missing", customer=customer, reason=reason)


class WebhookSignatureError(BillingError):
    """A webhook body we refuse before storing anything: a 400 to Stripe."""

    default_status = 400


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    payment_intent_id: str
    customer_id: str
    amount_total: int
    currency: str
    metadata: dict[str, str] = field(default_factory=dict)
    customer_details: dict[str, Any] = field(default_factory=dict)
    expires_at: int = 0


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    status: str
    charge_id: str
    amount: int
    currency: str
    # What paid: the charge's `payment_method_details.type` ("card", "customer_balance"
    # for a bank transfer, ...); empty while nothing has been charged.
    method_type: str = ""


@dataclass(frozen=True)
class RefundRecord:
    id: str
    status: str  # pending | requires_action | succeeded | failed | canceled
    amount: int
    currency: str
    payment_intent_id: str
    charge_id: str
    failure_reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Charge:
    id: str
    payment_intent_id: str
    amount: int
    amount_refunded: int
    currency: str
    refund_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class DisputeRecord:
    id: str
    charge_id: str
    payment_intent_id: str
    amount: int
    currency: str
    reason: str
    status: str


@lru_cache(maxsize=4)
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, base_addresses={"api": api_base}, max_network_retries=2)


def client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise GatewayError("gateway_not_configured")
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


def _failure(exc: stripe.StripeError) -> GatewayError:
    """Our error for Stripe's: GatewayUnavailable (tasks retry it) when Stripe could not be
    reached or rate-limited us, after the client's own network retries; GatewayError for
    a refusal, which asking again would not change."""
    transient = isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError)
    return (GatewayUnavailable if transient else GatewayError)(reason=exc.user_message or str(exc))


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except stripe.StripeError as exc:
        raise _failure(exc) from exc


def _d(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj or {})


def _id(value: Any) -> str:
    """Stripe returns an id or (when expanded) an object; we want the id either way."""
    if not value:
        return ""
    if isinstance(value, str):
        return value
    return str(_d(value).get("id", ""))


ADDRESS_KEYS = ("line1", "line2", "city", "postal_code", "country")


@dataclass(frozen=True)
class CustomerDetails:
    """What the Stripe Customer of an organisation carries, so Checkout never asks again:
    name, billing email, address (ADDRESS_KEYS) and, when there is one, a tax id."""

    name: str
    email: str
    address: dict[str, str]
    tax_id: tuple[str, str] | None = None  # (Stripe tax id type, value)


def tax_id_for(country: str, vat_id: str) -> tuple[str, str] | None:
    """The Stripe tax id of a buyer: an EU VAT id (format and checksum checked when the
    organisation saved it) as `eu_vat`. Other countries' ids are not sent: Stripe checks
    each type's format, and an id we cannot check ourselves must not block a payment
    (invoices carry it anyway, from the organisation)."""
    if vat_id and country.upper() in EU_MEMBER_STATES:
        return ("eu_vat", vat_id)
    return None


def create_customer(
    *, details: CustomerDetails, metadata: dict[str, str], idempotency_key: str
) -> str:
    params: dict[str, Any] = {
        "email": details.email,
        "name": details.name,
        "address": {key: value for key, value in details.address.items() if value},
        "metadata": metadata,
    }
    if details.tax_id:
        params["tax_id_data"] = [{"type": details.tax_id[0], "value": details.tax_id[1]}]
    customer = _call(
        client().v1.customers.create,
        params=params,
        options={"idempotency_key": idempotency_key},
    )
    return str(customer.id)


def sync_customer(customer_id: str, details: CustomerDetails, *, idempotency_key: str) -> None:
    """Make an existing Customer carry `details`, changing only what differs.

    Raises CustomerMissingError when Stripe no longer has it. Updates set values, so
    they are idempotent by nature and use the SDK's own key; a tax id is created with
    `idempotency_key` (plus its value) and only when missing, so a retry adds no second."""
    try:
        data = _d(client().v1.customers.retrieve(customer_id))
        tax_ids = _d(client().v1.customers.tax_ids.list(customer_id)).get("data") or []
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            raise CustomerMissingError(customer_id, exc.user_message or str(exc)) from exc
        raise _failure(exc) from exc
    except stripe.StripeError as exc:
        raise _failure(exc) from exc
    if data.get("deleted"):
        raise CustomerMissingError(customer_id, "deleted")
    stored = data.get("address") or {}
    changes: dict[str, Any] = {}
    if {key: stored.get(key) or "" for key in ADDRESS_KEYS} != details.address:
        changes["address"] = details.address  # "" clears a part Stripe still has
    if (data.get("name") or "") != details.name:
        changes["name"] = details.name
    if (data.get("email") or "") != details.email:
        changes["email"] = details.email
    if changes:
        _call(client().v1.customers.update, customer_id, params=changes)
    present = False
    for item in map(_d, tax_ids):
        if details.tax_id == (item.get("type"), item.get("value")):
            present = True
        else:
            _call(client().v1.customers.tax_ids.delete, customer_id, item["id"])
    if details.tax_id and not present:
        _call(
            client().v1.customers.tax_ids.create,
            customer_id,
            params={"type": details.tax_id[0], "value": details.tax_id[1]},
            options={"idempotency_key": f"{idempotency_key}:{details.tax_id[1]}"},
        )


def create_checkout_session(
    *,
    customer_id: str,
    amount: int,
    currency: str,
    product_name: str,
    product_description: str = "",
    reference: str,
    metadata: dict[str, str],
    expires_at: datetime,
    success_url: str,
    cancel_url: str,
    bank_transfer: bool,
    idempotency_key: str,
) -> CheckoutSession:
    params: dict[str, Any] = {
        "mode": "payment",
        "customer": customer_id,
        "client_reference_id": reference,
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency.lower(),
                    "unit_amount": amount,
                    # Shown under the name on the hosted page (the cancellation policy).
                    "product_data": {"name": product_name}
                    | ({"description": product_description} if product_description else {}),
                },
            }
        ],
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "expires_at": int(expires_at.timestamp()),
        "success_url": success_url,
        "cancel_url": cancel_url,
        # The Customer carries the organisation's address and VAT id (sync_customer), so
        # Checkout asks only what the payment method itself needs, collects no tax id
        # (the amount and the invoice follow the organisation's profile, so one typed
        # here would change neither) and never overwrites the Customer with what the
        # buyer types (a card's postcode is not the organisation's address).
        "billing_address_collection": "auto",
        "customer_update": {"address": "never", "name": "never"},
        "payment_method_types": ["card"],
    }
    if bank_transfer:
        params["payment_method_types"] = ["card", "customer_balance"]
        params["payment_method_options"] = {
            "customer_balance": {
                "funding_type": "bank_transfer",
                "bank_transfer": {"type": settings.STRIPE_BANK_TRANSFER_TYPE},
            }
        }
    try:
        session = client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": idempotency_key}
        )
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing" and getattr(exc, "param", None) == "customer":
            raise CustomerMissingError(customer_id, exc.user_message or str(exc)) from exc
        raise _failure(exc) from exc
    except stripe.StripeError as exc:
        raise _failure(exc) from exc
    return _session(session)


def _session(obj: Any) -> CheckoutSession:
    data = _d(obj)
    return CheckoutSession(
        id=data["id"],
        url=data.get("url") or "",
        status=data.get("status") or "",
        payment_status=data.get("payment_status") or "",
        payment_intent_id=_id(data.get("payment_intent")),
        customer_id=_id(data.get("customer")),
        amount_total=int(data.get("amount_total") or 0),
        currency=(data.get("currency") or "").upper(),
        metadata=dict(data.get("metadata") or {}),
        customer_details=dict(data.get("customer_details") or {}),
        expires_at=int(data.get("expires_at") or 0),
    )


def retrieve_checkout_session(session_id: str) -> CheckoutSession:
    return _session(_call(client().v1.checkout.sessions.retrieve, session_id))


def expire_checkout_session(session_id: str) -> CheckoutSession:
    return _session(_call(client().v1.checkout.sessions.expire, session_id))


def retrieve_payment_intent(payment_intent_id: str) -> PaymentIntent:
    # The charge is expanded: its payment_method_details say how the buyer paid.
    data = _d(
        _call(
            client().v1.payment_intents.retrieve,
            payment_intent_id,
            params={"expand": ["latest_charge"]},
        )
    )
    charge = data.get("latest_charge") or ""
    if not charge and (data.get("charges") or {}).get("data"):
        charge = data["charges"]["data"][0]  # older API shape (localstripe)
    details = _d(charge).get("payment_method_details") if not isinstance(charge, str) else None
    return PaymentIntent(
        id=data["id"],
        status=data.get("status") or "",
        charge_id=_id(charge),
        amount=int(data.get("amount") or 0),
        currency=(data.get("currency") or "").upper(),
        method_type=str((details or {}).get("type") or ""),
    )


def create_refund(
    *, payment_intent_id: str, amount: int, metadata: dict[str, str], idempotency_key: str
) -> RefundRecord:
    refund = _call(
        client().v1.refunds.create,
        params={"payment_intent": payment_intent_id, "amount": amount, "metadata": metadata},
        options={"idempotency_key": idempotency_key},
    )
    return _refund(refund)


def retrieve_refund(refund_id: str) -> RefundRecord:
    return _refund(_call(client().v1.refunds.retrieve, refund_id))


def _refund(obj: Any) -> RefundRecord:
    data = _d(obj)
    return RefundRecord(
        id=data["id"],
        status=data.get("status") or "",
        amount=int(data.get("amount") or 0),
        currency=(data.get("currency") or "").upper(),
        payment_intent_id=_id(data.get("payment_intent")),
        charge_id=_id(data.get("charge")),
        failure_reason=data.get("failure_reason") or "",
        metadata=dict(data.get("metadata") or {}),
    )


def retrieve_charge(charge_id: str) -> Charge:
    # Stripe lists a charge's refunds only when asked to expand them.
    data = _d(_call(client().v1.charges.retrieve, charge_id, params={"expand": ["refunds"]}))
    refunds = (data.get("refunds") or {}).get("data") or []
    return Charge(
        id=data["id"],
        payment_intent_id=_id(data.get("payment_intent")),
        amount=int(data.get("amount") or 0),
        amount_refunded=int(data.get("amount_refunded") or 0),
        currency=(data.get("currency") or "").upper(),
        refund_ids=tuple(_id(r) for r in refunds),
    )


def dispute_from_event(payload: dict[str, Any]) -> DisputeRecord:
    """Disputes are not re-fetched (the emulator has no dispute API); the signature check
    and the charge re-fetch in the caller are what we trust."""
    data = payload["data"]["object"]
    return DisputeRecord(
        id=data["id"],
        charge_id=_id(data.get("charge")),
        payment_intent_id=_id(data.get("payment_intent")),
        amount=int(data.get("amount") or 0),
        currency=(data.get("currency") or "").upper(),
        reason=data.get("reason") or "",
        status=data.get("status") or "",
    )


# The event columns we fill (`billing_stripeevent.event_id` and `.type`).
EVENT_ID_MAX = 128
EVENT_TYPE_MAX = 64
# Stripe objects nest a handful of levels (event > data > object > details > card ...);
# anything far deeper is not an event, and parsing it further would only cost stack.
EVENT_MAX_DEPTH = 32
# 9999-12-31T23:59:59Z: the last second a datetime can hold.
EVENT_MAX_CREATED = 253_402_300_799


def verify_event(payload: bytes, signature: str) -> dict[str, Any]:
    """Check the Stripe-Signature header against the raw body; return the event dict.

    Refused (WebhookSignatureError, a 400) and never stored: a signature that does not
    match, is older than STRIPE_WEBHOOK_TOLERANCE_SECONDS or dated further than that in
    the future (a replay window must not open forwards), and a correctly signed body that
    is not shaped like a Stripe event (see `_check_event_shape`)."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise WebhookSignatureError("webhook_secret_missing")
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, settings.STRIPE_WEBHOOK_SECRET, tolerance
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        raise WebhookSignatureError("bad_signature", reason=str(exc)) from exc
    # The SDK refuses only old timestamps; one from the future is refused the same way.
    if _signature_timestamp(signature) > time.time() + tolerance:
        raise WebhookSignatureError("signature_out_of_tolerance")
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise WebhookSignatureError("not_json") from exc
    _check_event_shape(event)
    return event


def _signature_timestamp(header: str) -> int:
    """`t=` of a Stripe-Signature header the SDK has already accepted."""
    for item in header.split(","):
        key, _, value = item.partition("=")
        if key.strip() == "t":
            return int(value)
    raise WebhookSignatureError("signature_without_timestamp")


def _check_event_shape(event: Any) -> None:
    """A Stripe event: an object with a string `id` and `type` (printable ASCII, within
    our column sizes), an integer `created` and an object `data.object`, nested no deeper than
    EVENT_MAX_DEPTH. (Whether the object has the `id` processing needs depends on the
    type; `billing.services.stripe_events.receive_event` checks that for the types it handles.)"""

    def refuse(reason: str) -> NoReturn:
        raise WebhookSignatureError("not_an_event", reason=reason)

    if not isinstance(event, dict):
        refuse("not an object")
    for key, limit in (("id", EVENT_ID_MAX), ("type", EVENT_TYPE_MAX)):
        value = event.get(key)
        if not _is_token(value, limit):
            refuse(f"`{key}` must be 1 to {limit} printable ASCII characters")
    created = event.get("created")
    if type(created) is not int or not 0 <= created <= EVENT_MAX_CREATED:
        refuse("`created` must be a Unix timestamp")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        refuse("`data.object` must be an object")
    if _depth(event) > EVENT_MAX_DEPTH:
        refuse(f"nested deeper than {EVENT_MAX_DEPTH} levels")


def is_stripe_id(value: Any) -> bool:
    """An id we can store and fetch by (Stripe ids are short printable ASCII)."""
    return _is_token(value, EVENT_ID_MAX)


def _is_token(value: Any, limit: int) -> bool:
    """Stripe ids and event types: printable ASCII (so never a NUL), 1 to `limit` long."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= limit
        and value.isascii()
        and value.isprintable()
    )


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            if deepest > EVENT_MAX_DEPTH:
                return deepest
            stack.extend((child, level + 1) for child in item)
    return deepest
