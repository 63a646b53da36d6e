"""Celery adapters of billing: ids in, re-fetch, one service call (webinars.jobs has the
task rule and the one retry policy, AdapterTask). Services queue these by name after
commit; beat runs the sweepers (settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task
from django.utils import timezone

from billing import exports
from billing.models import Invoice, Payment, Refund
from billing.services import checkout, invoicing, refunds, stripe_events
from webinars.jobs import AdapterTask


@shared_task(base=AdapterTask)
def process_stripe_event_task(event_id: str) -> str:
    """Exactly-once by the event row's lock and status; safe to redeliver."""
    return stripe_events.process_event(event_id)


@shared_task(base=AdapterTask)
def submit_refund_task(refund_id: int) -> str:
    refund = Refund.objects.select_related("payment__webinar").get(pk=refund_id)
    return refunds.submit_refund(refund).status


@shared_task(base=AdapterTask)
def expire_checkout_task(payment_id: int) -> None:
    """Close an unpaid Checkout Session (booking cancelled); Stripe then sends expired."""
    checkout.close_checkout_session(Payment.objects.get(pk=payment_id))


@shared_task(base=AdapterTask)
def render_and_email_invoice_task(invoice_id: int) -> None:
    """Render the PDF of an issued invoice or credit note if missing and email it to the
    buyer once (`emailed_at`); running it again is harmless."""
    invoicing.deliver_invoice(Invoice.objects.get(pk=invoice_id))


@shared_task(base=AdapterTask)
def retry_stuck_events_task() -> int:
    """Beat: re-queue events whose processing failed (e.g. Stripe unreachable) or that
    were stored but never queued (the broker was down when the webhook arrived)."""
    return stripe_events.requeue_stuck_events()


@shared_task(base=AdapterTask)
def retry_stuck_refunds_task() -> int:
    """Beat: refunds recorded but never accepted by Stripe (a long outage outlived the
    task's retries) are submitted again; after a day they are also flagged to finance."""
    return refunds.resubmit_stuck_refunds()


@shared_task(base=AdapterTask)
def monthly_export_task() -> None:
    """Email the previous calendar month's documents to FINANCE_EMAIL in every export
    format. A redelivery sends the month again: finance keeps the latest."""
    exports.email_period_exports(*exports.previous_month(timezone.now().date()))
