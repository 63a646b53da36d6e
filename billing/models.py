"""Stripe payments, webhook events, refunds, disputes, invoices and credit notes.

Money is integer minor units plus an ISO currency code everywhere. Issued invoices and
credit notes are immutable (see `Invoice.save`/`delete`); corrections are credit notes.
"""

import secrets
import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from webinars.formatting import format_money_code
from webinars.models import Organisation, User, Webinar


class StripeCustomer(models.Model):
    """One Stripe Customer per organisation, created on its first checkout and reused."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, related_name="stripe_customer"
    )
    stripe_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.stripe_id


class PaymentStatus(models.TextChoices):
    OPEN = "open", _("Checkout open")
    AWAITING_FUNDS = "awaiting_funds", _("Awaiting bank transfer")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Checkout expired")
    REFUNDED = "refunded", _("Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")


# Outside the class so that Payment.Meta's constraint can name them too (a nested class
# body does not see its enclosing class's names).
_PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


class Payment(models.Model):
    """One Stripe Checkout attempt for one webinar; amounts are snapshotted at creation."""

    Status = PaymentStatus
    # Paid, whatever was refunded later: collected, invoiced, and the webinar's one payment.
    PAID_STATUSES = _PAID
    # Paid and not refunded in full: what a refund can still come out of.
    REFUNDABLE_STATUSES = (Status.SUCCEEDED, Status.PARTIALLY_REFUNDED)

    class Method(models.TextChoices):
        CARD = "card", _("Card")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        UNKNOWN = "", _("Not chosen yet")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    webinar = models.ForeignKey(Webinar, on_delete=models.PROTECT, related_name="payments")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="payments"
    )
    attempt = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    method = models.CharField(max_length=20, choices=Method.choices, blank=True, default="")
    currency = models.CharField(max_length=3)
    net_minor = models.BigIntegerField()
    tax_minor = models.BigIntegerField(default=0)
    amount_minor = models.BigIntegerField(help_text=_("Gross amount charged."))
    tax_treatment = models.CharField(max_length=20, blank=True)
    tax_rate_bp = models.PositiveIntegerField(default=0, help_text=_("Basis points."))
    refunded_minor = models.BigIntegerField(default=0)
    checkout_session_id = models.CharField(max_length=128, unique=True, null=True, blank=True)
    checkout_url = models.URLField(max_length=500, blank=True)
    payment_intent_id = models.CharField(max_length=128, blank=True, db_index=True)
    charge_id = models.CharField(max_length=128, blank=True, db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    late = models.BooleanField(
        default=False, help_text=_("Paid after the hold had expired and the capacity was gone.")
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["webinar", "attempt"], name="payment_attempt_unique"),
            # At most one successful payment per webinar: a second one is refunded.
            models.UniqueConstraint(
                fields=["webinar"],
                condition=Q(status__in=list(_PAID), late=False),
                name="payment_one_success_per_webinar",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.webinar.code} #{self.attempt} {self.status}"

    @property
    def refundable_minor(self) -> int:
        return self.amount_minor - self.refunded_minor


class Refund(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")

    class Reason(models.TextChoices):
        CANCELLATION = "cancellation", _("Cancellation by organiser")
        LATE_PAYMENT = "late_payment", _("Paid after capacity was released")
        DUPLICATE = "duplicate", _("Duplicate payment")
        STAFF = "staff", _("Issued by staff")
        EXTERNAL = "external", _("Made in the Stripe dashboard")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    stripe_id = models.CharField(max_length=128, unique=True, null=True, blank=True)
    failure_reason = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Finance: refunds needing attention.
            models.Index(fields=["status", "created_at"], name="refund_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{format_money_code(self.amount_minor, self.currency)} {self.status}"


class Dispute(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    stripe_id = models.CharField(max_length=128, unique=True)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.stripe_id


class StripeEvent(models.Model):
    """Each Stripe event is stored once, by id; its status says what became of it."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    event_id = models.CharField(max_length=128, primary_key=True)
    type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=128, blank=True)
    created = models.DateTimeField(help_text=_("When Stripe created the event."))
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            # The retry sweeper: events not processed yet.
            models.Index(fields=["status", "received_at"], name="stripeevent_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class InvoiceSequence(models.Model):
    """The gapless counter of one series (INV, CN) in one year, locked when numbering."""

    series = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    next_value = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="invoicesequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: next {self.next_value}"


def invoice_pdf_path(instance: "Invoice", filename: str) -> str:
    """`invoices/<year>/<random token>/<number>.pdf`: the token makes stored names
    unguessable, so a media folder served by mistake still gives nothing away. Files
    leave only through the permission-checked download views, never from MEDIA_URL."""
    year = instance.year or timezone.now().year
    return f"invoices/{year}/{secrets.token_urlsafe(24)}/{filename}"


class ImmutableInvoiceError(Exception):
    """Issued invoices and credit notes are never changed or deleted."""


class Invoice(models.Model):
    """An invoice or a credit note (kind). Amounts are positive on both; credit notes
    reverse the invoice they refer to."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")

    class TaxTreatment(models.TextChoices):
        DOMESTIC = "domestic", _("Domestic VAT")
        REVERSE_CHARGE = "reverse_charge", _("EU reverse charge")
        EU_CONSUMER = "eu_consumer", _("EU buyer without VAT id (seller's rate)")
        EXPORT = "export", _("Outside the EU (no VAT)")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.INVOICE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    series = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    number = models.CharField(max_length=32, unique=True, null=True, blank=True)
    webinar = models.ForeignKey(Webinar, on_delete=models.PROTECT, related_name="invoices")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="invoices"
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    refund = models.OneToOneField(
        Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="credit_note"
    )
    refers_to = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    issue_date = models.DateField(null=True, blank=True)
    supply_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    seller = models.JSONField(default=dict)
    buyer = models.JSONField(default=dict)
    tax_treatment = models.CharField(max_length=20, choices=TaxTreatment.choices)
    tax_rate_bp = models.PositiveIntegerField(default=0)
    tax_note = models.CharField(max_length=200, blank=True)
    net_minor = models.BigIntegerField(default=0)
    tax_minor = models.BigIntegerField(default=0)
    gross_minor = models.BigIntegerField(default=0)
    paid = models.BooleanField(default=False)
    pdf = models.FileField(upload_to=invoice_pdf_path, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    issued_at = models.DateTimeField(null=True, blank=True)

    # Fields that may still be written after issue (delivery bookkeeping, not content).
    MUTABLE_AFTER_ISSUE = frozenset({"pdf", "emailed_at", "paid"})

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "year", "sequence"], name="invoice_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(number__isnull=False, sequence__isnull=False),
                name="invoice_issued_has_number",
            ),
            # One invoice per payment (credit notes are one per refund via `refund`): the
            # backstop behind issue_invoice's idempotency.
            models.UniqueConstraint(
                fields=["payment"], condition=Q(kind="invoice"), name="invoice_one_per_payment"
            ),
        ]
        indexes = [
            # Finance exports and admin filters: documents issued in a period.
            models.Index(fields=["issue_date", "kind"], name="invoice_issue_date_idx"),
        ]

    def __str__(self) -> str:
        return self.number or f"draft {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A guard, not business logic: issued documents are legally frozen.
        if self.pk and self.status == self.Status.ISSUED:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            fields = set(kwargs.get("update_fields") or [])
            if stored == self.Status.ISSUED and not (fields and fields <= self.MUTABLE_AFTER_ISSUE):
                raise ImmutableInvoiceError(f"{self.number} is issued and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.status == self.Status.ISSUED:
            raise ImmutableInvoiceError(f"{self.number} is issued and cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def sign(self) -> int:
        return -1 if self.kind == self.Kind.CREDIT_NOTE else 1


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=1)
    description = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField(default=1)
    unit_net_minor = models.BigIntegerField()
    net_minor = models.BigIntegerField()
    tax_rate_bp = models.PositiveIntegerField(default=0)
    tax_minor = models.BigIntegerField(default=0)
    gross_minor = models.BigIntegerField()

    class Meta:
        ordering = ["invoice", "position"]

    def __str__(self) -> str:
        return self.description
