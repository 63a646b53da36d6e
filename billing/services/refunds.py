"""Refunds (services): the refund state machine and stuck-refund alerts.

A refund is a row first (`requested`), then a Stripe refund created by a task with the
idempotency key `refund:<code>`, then `pending`/`succeeded`/`failed` as Stripe's events
say. A credit note is issued when a refund succeeds; a failed refund is surfaced to
finance (flag + email + audit), never retried silently.
"""

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billing import gateway, notify
from billing.errors import BillingError
from billing.models import Payment, Refund
from billing.selectors import (
    in_flight_minor,
    refunds_stuck_for_a_day,
    stuck_refund_ids,
)
from billing.services.invoicing import issue_credit_note
from webinars import audit
from webinars import services as webinar_services
from webinars.jobs import enqueue_on_commit
from webinars.models import User, Webinar


@transaction.atomic
def request_refund(
    payment: Payment, *, amount_minor: int, reason: str, actor: User | None
) -> Refund:
    """Record a refund and queue its submission to Stripe after commit."""
    payment = Payment.objects.select_for_update(no_key=True).get(pk=payment.pk)
    if amount_minor <= 0 or amount_minor > payment.amount_minor - in_flight_minor(payment):
        raise BillingError("refund_amount")
    refund = Refund.objects.create(
        payment=payment,
        amount_minor=amount_minor,
        currency=payment.currency,
        reason=reason,
        created_by=actor,
    )
    audit.record(
        "refund.requested",
        refund,
        actor=actor,
        webinar=payment.webinar,
        data={"amount_minor": amount_minor, "reason": reason},
    )
    enqueue_on_commit("billing.tasks.submit_refund_task", refund_id=refund.pk)
    return refund


def submit_refund(refund: Refund) -> Refund:
    """Create the Stripe refund (idempotent) and record what Stripe answered."""
    if refund.stripe_id:
        return refund
    payment = refund.payment
    record = gateway.create_refund(
        payment_intent_id=payment.payment_intent_id,
        amount=refund.amount_minor,
        metadata={"refund": str(refund.code), "booking": payment.webinar.code},
        idempotency_key=f"refund:{refund.code}",
    )
    return apply_refund_record(record, actor=None)


def apply_refund_record(record: gateway.RefundRecord, *, actor: User | None) -> Refund:
    """Bring our refund in line with Stripe's (monotonic: a final state never changes).
    Refunds made in the Stripe dashboard are adopted as `external`."""
    with transaction.atomic():
        payment = _lock_parents(record)
        if payment is None:
            raise BillingError("unknown_refund", refund=record.id)
        refund = _refund_for(record, payment)
        new_status = {
            "succeeded": Refund.Status.SUCCEEDED,
            "failed": Refund.Status.FAILED,
            "canceled": Refund.Status.CANCELED,
        }.get(record.status, Refund.Status.PENDING)
        if not _may_move(refund, new_status):
            return refund
        refund.stripe_id = record.id
        refund.status = new_status
        refund.failure_reason = record.failure_reason
        refund.save(update_fields=["stripe_id", "status", "failure_reason", "updated_at"])
        audit.record(
            f"refund.{new_status}",
            refund,
            actor=actor,
            webinar=refund.payment.webinar,
            data={"stripe_id": record.id, "failure_reason": record.failure_reason},
        )
        if new_status == Refund.Status.SUCCEEDED:
            _settle(refund.payment)
            if not refund.payment.late:  # late payments were never invoiced
                issue_credit_note(refund, actor=actor)
        elif new_status == Refund.Status.FAILED:
            _settle(refund.payment)
            webinar_services.flag_webinar(
                refund.payment.webinar,
                actor=None,
                reason=f"Refund {record.id} failed: {record.failure_reason or 'unknown'}",
            )
            transaction.on_commit(lambda: notify.refund_failed(refund))
    return refund


def _payment_of(record: gateway.RefundRecord) -> Payment | None:
    """Our payment behind a Stripe refund: by the refund we created (id or metadata), else
    by its PaymentIntent. An event without a PaymentIntent matches nothing of ours."""
    ours = Refund.objects.filter(stripe_id=record.id).values_list("payment_id", flat=True).first()
    if ours is None and record.metadata.get("refund"):
        ours = (
            Refund.objects.filter(code=record.metadata["refund"])
            .values_list("payment_id", flat=True)
            .first()
        )
    if ours is not None:
        return Payment.objects.get(pk=ours)
    if not record.payment_intent_id:
        return None
    return Payment.objects.filter(payment_intent_id=record.payment_intent_id).first()


def _lock_parents(record: gateway.RefundRecord) -> Payment | None:
    """Lock order everywhere in billing: webinar, then payment, then refund."""
    payment = _payment_of(record)
    if payment is None:
        return None
    Webinar.objects.select_for_update(no_key=True).get(pk=payment.webinar_id)
    return Payment.objects.select_for_update(no_key=True).get(pk=payment.pk)


def _may_move(refund: Refund, new_status: str) -> bool:
    """Refund states only move forward. A card refund can look succeeded and fail later
    (Stripe's charge.refund.updated case), so succeeded -> failed is the one late move."""
    if refund.status == new_status:
        return not refund.stripe_id
    if refund.status in (Refund.Status.FAILED, Refund.Status.CANCELED):
        return False
    if refund.status == Refund.Status.SUCCEEDED:
        return new_status == Refund.Status.FAILED
    return True


def _refund_for(record: gateway.RefundRecord, payment: Payment) -> Refund:
    by_id = Refund.objects.select_for_update(no_key=True).filter(stripe_id=record.id).first()
    if by_id:
        return by_id
    code = record.metadata.get("refund")
    if code:
        ours = Refund.objects.select_for_update(no_key=True).filter(code=code).first()
        if ours:
            return ours
    return Refund.objects.create(
        payment=payment,
        amount_minor=record.amount,
        currency=record.currency or payment.currency,
        reason=Refund.Reason.EXTERNAL,
        stripe_id=record.id,
    )


def _settle(payment: Payment) -> None:
    payment = Payment.objects.select_for_update(no_key=True).get(pk=payment.pk)
    refunded = (
        payment.refunds.filter(status=Refund.Status.SUCCEEDED).aggregate(s=Sum("amount_minor"))["s"]
        or 0
    )
    payment.refunded_minor = refunded
    if payment.status in Payment.PAID_STATUSES:
        payment.status = (
            Payment.Status.REFUNDED
            if refunded >= payment.amount_minor
            else Payment.Status.PARTIALLY_REFUNDED
        )
    payment.save(update_fields=["refunded_minor", "status", "updated_at"])


def flag_stuck_refund(refund: Refund) -> None:
    """Tell finance (once) that a refund has not reached Stripe for a day."""
    webinar = refund.payment.webinar
    if webinar.needs_attention and str(refund.code) in webinar.attention_reason:
        return
    webinar_services.flag_webinar(
        webinar, actor=None, reason=f"Refund {refund.code} not accepted by Stripe for a day"
    )
    notify.refund_stuck(refund)


def resubmit_stuck_refunds() -> int:
    """Queue again the refunds recorded but never accepted by Stripe (an outage outlived
    the task's retries) and flag those stuck for a day to finance; returns how many were
    queued. Submitting is idempotent (the key `refund:<code>`)."""
    now = timezone.now()
    ids = stuck_refund_ids(now)
    for refund_id in ids:
        enqueue_on_commit("billing.tasks.submit_refund_task", refund_id=refund_id)
    for refund in refunds_stuck_for_a_day(now):
        flag_stuck_refund(refund)
    return len(ids)
