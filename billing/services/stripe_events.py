"""Stripe webhooks: store each verified event once, process it exactly once in Celery.

`receive_event` runs in the request: signature already verified by the view, it inserts
the event by id (a duplicate delivery inserts nothing and queues nothing) and queues
processing after commit. `process_event` locks the event row, skips it if already done,
re-fetches the object from Stripe and applies a monotonic transition, so repeated and
out-of-order deliveries change nothing.

NUL characters: PostgreSQL's jsonb (and text) cannot hold U+0000, yet Stripe relays what
buyers type, NULs included, and retries an event it cannot deliver for days. The stored
copy therefore has every NUL, in keys and values, replaced by U+FFFD (the replacement
character), and that copy is what processing reads. Nothing we act on (ids, statuses,
amounts) can hold one: an event's `id` and `type`, and a handled event's object id, must
be printable ASCII (`gateway.verify_event` and `receive_event` refuse them otherwise).
Lone surrogates (valid JSON escapes, invalid UTF-8) are replaced the same way.
"""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from billing import gateway, notify, selectors
from billing.errors import BillingError
from billing.models import Dispute, Payment, Refund, StripeEvent
from billing.services.checkout import funds_deadline_for
from billing.services.invoicing import issue_invoice
from billing.services.refunds import apply_refund_record, request_refund
from webinars import audit
from webinars import services as webinar_services
from webinars.errors import BookingError, CapacityError
from webinars.jobs import enqueue_on_commit
from webinars.models import Webinar

logger = logging.getLogger(__name__)
S = Webinar.Status
P = Payment.Status

CHECKOUT_EVENTS = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
}
REFUND_EVENTS = {"refund.created", "refund.updated", "refund.failed"}
HANDLED = CHECKOUT_EVENTS | REFUND_EVENTS | {"charge.refunded", "charge.dispute.created"}


_INSERT_EVENT = """
INSERT INTO billing_stripeevent
    (event_id, type, object_id, created, payload, status, error, attempts, received_at)
VALUES (%s, %s, %s, %s, %s, %s, '', 0, now())
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""


def receive_event(event: dict[str, Any]) -> bool:
    """Store a verified event; True if it is new (and was queued), False for a duplicate.

    One INSERT ... ON CONFLICT DO NOTHING: a duplicate delivery costs one statement, not
    an exception and a rollback. If queueing fails after commit, the row stays `received`
    and the sweeper (`retry_stuck_events_task`) queues it later. Raises BillingError
    (400, nothing stored) for a handled event whose object has no usable id."""
    handled = event["type"] in HANDLED
    obj = event["data"]["object"]
    object_id = obj.get("id")
    if handled and not gateway.is_stripe_id(object_id):
        raise BillingError("bad_event", type=event["type"])
    event = without_nul(event)
    status = StripeEvent.Status.RECEIVED if handled else StripeEvent.Status.IGNORED
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _INSERT_EVENT,
            [
                event["id"],
                event["type"],
                str(object_id or "")[:128],
                datetime.fromtimestamp(int(event.get("created", 0)), tz=UTC),
                Jsonb(event),
                status,
            ],
        )
        new = cursor.fetchone() is not None
        if new and handled:
            enqueue_on_commit("billing.tasks.process_stripe_event_task", event_id=event["id"])
    return new and handled


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def without_nul(value: Any) -> Any:
    """`value` (parsed JSON) with every U+0000 in strings and keys replaced by U+FFFD, and
    so is any lone surrogate (`"\\ud800"` is valid JSON, but not UTF-8 PostgreSQL keeps)."""
    if isinstance(value, str):
        value = value.replace("\x00", "\ufffd")
        if not value.isascii():
            value = _LONE_SURROGATE.sub("\ufffd", value)
        return value
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


@dataclass(frozen=True)
class Fetched:
    """What Stripe says now about the event's object, fetched before any lock is taken."""

    session: gateway.CheckoutSession | None = None
    intent: gateway.PaymentIntent | None = None
    refunds: tuple[gateway.RefundRecord, ...] = ()
    dispute: gateway.DisputeRecord | None = None
    charge: gateway.Charge | None = None


def process_event(event_id: str) -> str:
    """Process one stored event exactly once; returns its final status.

    Stripe is asked first, outside any transaction (its latency never holds a row lock);
    then the event row is locked, re-checked and the transition applied. Failures are
    recorded on the row and re-raised so the task retries."""
    event = StripeEvent.objects.get(event_id=event_id)
    if event.status in DONE:
        return event.status
    try:
        fetched = FETCHERS[event.type](event.payload)
    except Exception as exc:
        _record_failure(event_id, exc)
        raise
    failure: Exception | None = None
    with transaction.atomic():
        # The row lock serialises parallel deliveries of one event; the loser sees it done.
        event = StripeEvent.objects.select_for_update(no_key=True).get(event_id=event_id)
        if event.status in DONE:
            return event.status
        event.attempts += 1
        try:
            with transaction.atomic():
                APPLIERS[event.type](event.payload, fetched)
        except Exception as exc:
            event.status = StripeEvent.Status.FAILED
            event.error = f"{type(exc).__name__}: {exc}"[:2000]
            event.save(update_fields=["status", "error", "attempts"])
            logger.warning("stripe event %s failed: %s", event_id, event.error)
            failure = exc
        else:
            event.status = StripeEvent.Status.PROCESSED
            event.error = ""
            event.processed_at = timezone.now()
            event.save(update_fields=["status", "error", "attempts", "processed_at"])
    if failure is not None:
        raise failure
    return event.status


DONE = (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED)


def requeue_stuck_events() -> int:
    """Queue again the events whose processing failed (Stripe unreachable, say) or that
    were stored but never queued (the broker was down when the webhook arrived); returns
    how many. Processing is exactly-once, so an event queued twice is done once."""
    ids = selectors.stuck_event_ids(timezone.now())
    for event_id in ids:
        enqueue_on_commit("billing.tasks.process_stripe_event_task", event_id=event_id)
    return len(ids)


def _record_failure(event_id: str, exc: Exception) -> None:
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update(no_key=True).get(event_id=event_id)
        if event.status in DONE:
            return
        event.attempts += 1
        event.status = StripeEvent.Status.FAILED
        event.error = f"{type(exc).__name__}: {exc}"[:2000]
        event.save(update_fields=["status", "error", "attempts"])
    logger.warning("stripe event %s failed: %s", event_id, event.error)


def _fetch_checkout(payload: dict[str, Any]) -> Fetched:
    session = gateway.retrieve_checkout_session(payload["data"]["object"]["id"])
    intent = None
    if session.payment_intent_id and session.status == "complete":
        intent = gateway.retrieve_payment_intent(session.payment_intent_id)
    return Fetched(session=session, intent=intent)


def _checkout(payload: dict[str, Any], fetched: Fetched) -> None:
    session = fetched.session
    assert session is not None
    found = (
        Payment.objects.filter(checkout_session_id=session.id).values("pk", "webinar_id").first()
    )
    if found is None:
        raise BillingError("unknown_session", session=session.id)
    # Lock order: webinar, then payment (as in checkout and cancellation).
    Webinar.objects.select_for_update(no_key=True).get(pk=found["webinar_id"])
    payment = (
        Payment.objects.select_for_update(no_key=True, of=("self",))
        .select_related("webinar")
        .get(pk=found["pk"])
    )
    intent = fetched.intent
    if session.payment_status == "paid" and intent is not None:
        _paid(payment, intent)
    elif session.status == "expired":
        _expired(payment)
    elif (
        session.status == "complete" and payload["type"] == "checkout.session.async_payment_failed"
    ):
        _transfer_failed(payment, intent)
    elif session.status == "complete":
        _awaiting_funds(payment, session.payment_intent_id)


# Stripe's payment_method_details.type -> how the organiser paid.
METHODS = {"card": Payment.Method.CARD, "customer_balance": Payment.Method.BANK_TRANSFER}


def _paid(payment: Payment, intent: gateway.PaymentIntent) -> None:
    if payment.status in Payment.PAID_STATUSES:
        return  # already recorded: a repeated or out-of-order event
    payment.status = P.SUCCEEDED
    # A method Stripe names but we do not list keeps what we knew (bank transfer, if the
    # transfer was chosen first) rather than guessing.
    payment.method = METHODS.get(intent.method_type, payment.method)
    payment.payment_intent_id = intent.id
    payment.charge_id = intent.charge_id
    payment.paid_at = timezone.now()
    webinar = payment.webinar
    other = (
        webinar.payments.filter(status__in=Payment.PAID_STATUSES, late=False)
        .exclude(pk=payment.pk)
        .exists()
    )
    confirmed = False
    if not other and webinar.status != S.CANCELLED:
        try:
            with transaction.atomic():
                webinar_services.confirm_booking(
                    webinar, actor=None, data={"payment": str(payment.code)}
                )
            confirmed = True
        except (CapacityError, BookingError):
            pass  # capacity gone, or too close to the start to revive: refunded below
    payment.late = not confirmed
    payment.save(
        update_fields=[
            "status",
            "method",
            "payment_intent_id",
            "charge_id",
            "paid_at",
            "late",
            "updated_at",
        ]
    )
    audit.record(
        "payment.succeeded",
        payment,
        actor=None,
        webinar=webinar,
        data={"payment_intent": intent.id, "late": payment.late, "method": payment.method},
    )
    if confirmed:
        issue_invoice(payment, actor=None)
        return
    # Paid but not confirmable (capacity gone, already paid, or cancelled): refund it all.
    reason = Refund.Reason.DUPLICATE if other else Refund.Reason.LATE_PAYMENT
    # No invoice: nothing was supplied for this money, it goes straight back.
    webinar_services.flag_webinar(
        webinar, actor=None, reason=f"Payment {payment.code} refunded ({reason})."
    )
    request_refund(payment, amount_minor=payment.amount_minor, reason=reason, actor=None)
    transaction.on_commit(lambda: notify.late_payment_refunded(payment))


def _awaiting_funds(payment: Payment, payment_intent_id: str) -> None:
    if payment.status != P.OPEN:
        return
    payment.status = P.AWAITING_FUNDS
    payment.method = Payment.Method.BANK_TRANSFER
    payment.payment_intent_id = payment_intent_id
    payment.save(update_fields=["status", "method", "payment_intent_id", "updated_at"])
    audit.record("payment.awaiting_funds", payment, actor=None, webinar=payment.webinar)
    webinar = payment.webinar
    if webinar.status == S.HELD:
        webinar_services.mark_awaiting_funds(
            webinar, actor=None, funds_deadline=funds_deadline_for(webinar, timezone.now())
        )
        transaction.on_commit(lambda: notify.transfer_instructions(payment))


def _transfer_failed(payment: Payment, intent: gateway.PaymentIntent | None) -> None:
    if payment.status not in (P.OPEN, P.AWAITING_FUNDS):
        return
    if intent is not None and intent.status == "succeeded":
        return _paid(payment, intent)  # a stale failure after success: ignore it
    payment.status = P.FAILED
    payment.save(update_fields=["status", "updated_at"])
    audit.record("payment.failed", payment, actor=None, webinar=payment.webinar)
    webinar = payment.webinar
    if webinar.status in Webinar.UNPAID_STATUSES:
        webinar_services.expire_hold(webinar, actor=None, reason="bank transfer failed")
    transaction.on_commit(lambda: notify.bank_transfer_failed(payment))
    return None


def _expired(payment: Payment) -> None:
    if payment.status != P.OPEN:
        return
    payment.status = P.EXPIRED
    payment.save(update_fields=["status", "updated_at"])
    audit.record("payment.expired", payment, actor=None, webinar=payment.webinar)
    webinar = payment.webinar
    still_open = webinar.payments.filter(status=P.OPEN).exclude(pk=payment.pk).exists()
    if webinar.status == S.HELD and not still_open:
        webinar_services.expire_hold(webinar, actor=None, reason="checkout expired")


def _fetch_refund(payload: dict[str, Any]) -> Fetched:
    return Fetched(refunds=(gateway.retrieve_refund(payload["data"]["object"]["id"]),))


def _fetch_charge_refunds(payload: dict[str, Any]) -> Fetched:
    charge = gateway.retrieve_charge(payload["data"]["object"]["id"])
    return Fetched(refunds=tuple(gateway.retrieve_refund(r) for r in charge.refund_ids))


def _refunds(payload: dict[str, Any], fetched: Fetched) -> None:
    for record in fetched.refunds:
        apply_refund_record(record, actor=None)


def _fetch_dispute(payload: dict[str, Any]) -> Fetched:
    record = gateway.dispute_from_event(payload)
    charge = gateway.retrieve_charge(record.charge_id) if record.charge_id else None
    return Fetched(dispute=record, charge=charge)


def _dispute(payload: dict[str, Any], fetched: Fetched) -> None:
    record, charge = fetched.dispute, fetched.charge
    assert record is not None
    intent = record.payment_intent_id or (charge.payment_intent_id if charge else "")
    payment = (
        Payment.objects.filter(payment_intent_id=intent).select_related("webinar").first()
        if intent
        else None  # an empty id would match any unpaid payment
    )
    if payment is None:
        raise BillingError("unknown_charge", charge=record.charge_id)
    dispute, created = Dispute.objects.get_or_create(
        stripe_id=record.id,
        defaults={
            "payment": payment,
            "amount_minor": record.amount,
            "currency": record.currency or payment.currency,
            "reason": record.reason,
            "status": record.status,
        },
    )
    if not created:
        return
    audit.record(
        "payment.disputed",
        payment,
        actor=None,
        webinar=payment.webinar,
        data={"dispute": record.id, "reason": record.reason, "amount": record.amount},
    )
    webinar_services.flag_webinar(
        payment.webinar, actor=None, reason=f"Dispute {record.id}: {record.reason}"
    )
    transaction.on_commit(lambda: notify.dispute_opened(dispute))


FETCHERS: dict[str, Callable[[dict[str, Any]], Fetched]] = (
    dict.fromkeys(CHECKOUT_EVENTS, _fetch_checkout)
    | dict.fromkeys(REFUND_EVENTS, _fetch_refund)
    | {"charge.refunded": _fetch_charge_refunds, "charge.dispute.created": _fetch_dispute}
)
APPLIERS: dict[str, Callable[[dict[str, Any], Fetched], None]] = (
    dict.fromkeys(CHECKOUT_EVENTS, _checkout)
    | dict.fromkeys(REFUND_EVENTS | {"charge.refunded"}, _refunds)
    | {"charge.dispute.created": _dispute}
)
