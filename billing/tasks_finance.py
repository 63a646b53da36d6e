"""Celery adapters of finance: ids in, re-fetch, call one service, own the retry policy.

Not auto-discovered (only `tasks.py` is): settings must list this module in
CELERY_IMPORTS so workers register the tasks.
"""

from celery import shared_task
from django.utils import timezone

from billing import exports
from billing.models import Invoice
from billing.services import invoicing

# Transient failures only: SMTP and storage hiccups, a database restart. A missing
# invoice or a broken template is a bug and must fail loudly, not loop.
RETRY_ON = (OSError, ConnectionError, TimeoutError)


@shared_task(
    acks_late=True,
    autoretry_for=RETRY_ON,
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=8,
)
def render_and_email_invoice_task(invoice_id: int) -> None:
    """Render the PDF of an issued invoice or credit note if missing and email it to the
    buyer once (`emailed_at`); running it again is harmless."""
    invoice = Invoice.objects.get(pk=invoice_id)
    invoicing.deliver_invoice(invoice)


@shared_task(
    acks_late=True,
    autoretry_for=RETRY_ON,
    retry_backoff=300,
    retry_backoff_max=3600,
    max_retries=6,
)
def monthly_export_task() -> None:
    """Email the previous calendar month's documents to FINANCE_EMAIL in every export
    format. A redelivery sends the month again: finance keeps the latest."""
    start, end = exports.previous_month(timezone.now().date())
    exports.email_period_exports(start, end)
