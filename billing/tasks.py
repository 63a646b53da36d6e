"""Celery adapters for payments: ids in, re-fetch, one service call, retry policy here."""

from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from billing import gateway
from billing.errors import GatewayError
from billing.models import Payment, Refund, StripeEvent
from billing.services import refunds, stripe_events


@shared_task(
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=8,
)
def process_stripe_event_task(event_id: str) -> str:
    """Exactly-once by the event row's lock and status; safe to redeliver."""
    return stripe_events.process_event(event_id)


@shared_task(acks_late=True, autoretry_for=(GatewayError,), retry_backoff=5, max_retries=8)
def submit_refund_task(refund_id: int) -> str:
    refund = Refund.objects.select_related("payment__webinar").get(pk=refund_id)
    return refunds.submit_refund(refund).status


@shared_task(acks_late=True, autoretry_for=(GatewayError,), retry_backoff=5, max_retries=5)
def expire_checkout_task(payment_id: int) -> None:
    """Close an unpaid Checkout Session (booking cancelled); Stripe then sends expired."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.status == Payment.Status.OPEN and payment.checkout_session_id:
        session = gateway.retrieve_checkout_session(payment.checkout_session_id)
        if session.status == "open":
            gateway.expire_checkout_session(payment.checkout_session_id)


@shared_task(acks_late=True)
def retry_stuck_events_task() -> int:
    """Beat: re-queue events whose processing failed (e.g. Stripe unreachable) or that
    were stored but never queued (the broker was down when the webhook arrived)."""
    stale = timezone.now() - timedelta(minutes=2)
    ids = list(
        StripeEvent.objects.filter(
            Q(status=StripeEvent.Status.FAILED, attempts__lt=10)
            | Q(status=StripeEvent.Status.RECEIVED, received_at__lt=stale)
        ).values_list("event_id", flat=True)[:200]
    )
    for event_id in ids:
        process_stripe_event_task.delay(event_id=event_id)
    return len(ids)


@shared_task(acks_late=True)
def retry_stuck_refunds_task() -> int:
    """Beat: refunds recorded but never accepted by Stripe (a long outage outlived the
    task's retries) are submitted again; after a day they are also flagged to finance."""
    now = timezone.now()
    stuck = Refund.objects.filter(
        status=Refund.Status.REQUESTED,
        stripe_id__isnull=True,
        created_at__lt=now - timedelta(minutes=10),
    )
    ids = list(stuck.values_list("pk", flat=True)[:200])
    for refund_id in ids:
        submit_refund_task.delay(refund_id=refund_id)
    for refund in stuck.filter(created_at__lt=now - timedelta(days=1)).select_related(
        "payment__webinar"
    ):
        refunds.flag_stuck_refund(refund)
    return len(ids)
