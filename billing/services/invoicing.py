"""Invoices and credit notes: issuing (numbered, immutable, audited) and delivery.

Every service here is atomic and idempotent, because its callers (Stripe webhooks, refund
reconciliation, admin actions) may run twice. Locks are always taken in one order, the
one billing/services/refunds.py uses too: refund row -> payment row -> sequence rows (INV before
CN), so two services never deadlock.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billing import emails, pdf
from billing.errors import BillingError
from billing.models import Invoice, InvoiceLine, InvoiceSequence, Payment, Refund
from billing.tax import (
    TaxDecision,
    split_gross,
    tax_for_organisation,
    tax_note,
)
from webinars import audit
from webinars.formatting import format_in_zone, format_money_code
from webinars.jobs import enqueue_on_commit
from webinars.models import Organisation, User, Webinar

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"
BUYER_FIELDS = Organisation.BILLING_FIELDS
DESCRIPTION_MAX = InvoiceLine._meta.get_field("description").max_length or 300


def today_utc() -> date:
    return timezone.now().astimezone(ZoneInfo("UTC")).date()


def seller_snapshot() -> dict[str, str]:
    return {key: str(value) for key, value in settings.SELLER.items()}


def buyer_snapshot(organisation: Organisation) -> dict[str, str]:
    """The buyer as it is now; the invoice keeps this copy whatever changes later."""
    return {field: getattr(organisation, field) for field in BUYER_FIELDS} | {
        "code": str(organisation.code),
    }


def line_description(webinar: Webinar) -> str:
    """What was sold (Art. 226 point 6): the package, the webinar and its local start."""
    text = (
        f"{webinar.package.name} — single-use webinar capacity package: {webinar.title}, "
        f"{format_in_zone(webinar.start_at, webinar.time_zone)}"
    )
    return text[:DESCRIPTION_MAX]


def _payment_tax(payment: Payment, organisation: Organisation) -> TaxDecision:
    """The treatment snapshotted at checkout; decided now only for payments made before
    checkout snapshotted it, and then only if the amounts agree with the decision."""
    if payment.tax_treatment:
        return TaxDecision(
            payment.tax_treatment, payment.tax_rate_bp, tax_note(payment.tax_treatment)
        )
    sale = tax_for_organisation(organisation, payment.net_minor)
    expected = (sale.net_minor, sale.tax_minor, sale.gross_minor)
    if expected != (payment.net_minor, payment.tax_minor, payment.amount_minor):
        raise BillingError("tax_mismatch")
    return sale.decision


def _finalise(invoice: Invoice, series: str) -> Invoice:
    """Give `invoice` the next number of its series and year, and save it as issued.

    The sequence row is locked until the caller's transaction commits, so numbers are
    handed out one transaction at a time: a rollback gives its number back (no gap) and
    nobody else can take the same one (no duplicate; the unique constraints back this).
    Call it last in the transaction, so the lock is held as briefly as possible.
    """
    year = invoice.issue_date.year  # type: ignore[union-attr]
    # INSERT .. ON CONFLICT DO NOTHING: the first document of a series-year creates its
    # row without the get_or_create race (a loser waits for the winner, then sees it).
    InvoiceSequence.objects.bulk_create(
        [InvoiceSequence(series=series, year=year)], ignore_conflicts=True
    )
    sequence = InvoiceSequence.objects.select_for_update(no_key=True).get(series=series, year=year)
    invoice.series, invoice.year, invoice.sequence = series, year, sequence.next_value
    invoice.number = f"{series}-{year}-{sequence.next_value:06d}"
    invoice.status = Invoice.Status.ISSUED
    invoice.issued_at = timezone.now()
    invoice.save()
    sequence.next_value += 1
    sequence.save(update_fields=["next_value"])
    return invoice


def _add_line(document: Invoice, description: str) -> None:
    """A document's one line (the package sold, or the credit for it): its amounts."""
    InvoiceLine.objects.create(
        invoice=document,
        position=1,
        description=description[:DESCRIPTION_MAX],
        quantity=1,
        unit_net_minor=document.net_minor,
        net_minor=document.net_minor,
        tax_rate_bp=document.tax_rate_bp,
        tax_minor=document.tax_minor,
        gross_minor=document.gross_minor,
    )


def _queue_delivery(invoice: Invoice) -> None:
    enqueue_on_commit("billing.tasks.render_and_email_invoice_task", invoice_id=invoice.pk)


@transaction.atomic
def issue_invoice(payment: Payment, *, actor: User | None) -> Invoice:
    """Issue the invoice of a paid payment, or return the one it already has.

    Snapshots the seller (settings.SELLER) and the buyer (the organisation now), takes
    amounts and VAT treatment from the payment, numbers it INV-<year>-<6 digits>, writes
    an `invoice.issued` audit row and, after commit, queues the PDF and the email.
    Raises BillingError if the payment is not paid.
    """
    # The payment lock makes concurrent callers queue; the second finds the invoice.
    payment = Payment.objects.select_for_update(no_key=True).get(pk=payment.pk)
    existing = Invoice.objects.filter(payment=payment, kind=Invoice.Kind.INVOICE).first()
    if existing is not None:
        return existing
    if payment.status not in Payment.PAID_STATUSES:
        raise BillingError("not_paid")
    if payment.late:
        # Refunded in full because it could not be confirmed: nothing was supplied.
        raise BillingError("late_payment")
    if payment.net_minor + payment.tax_minor != payment.amount_minor:
        raise BillingError("tax_sum_mismatch")
    webinar = Webinar.objects.select_related("package").get(pk=payment.webinar_id)
    organisation = Organisation.objects.get(pk=payment.organisation_id)
    tax = _payment_tax(payment, organisation)
    issue_date = today_utc()
    invoice = Invoice(
        kind=Invoice.Kind.INVOICE,
        webinar=webinar,
        organisation=organisation,
        payment=payment,
        issue_date=issue_date,
        # The day the webinar takes place, as the organiser sees it in its time zone.
        supply_date=webinar.start_at.astimezone(ZoneInfo(webinar.time_zone)).date(),
        due_date=issue_date + timedelta(days=settings.INVOICE_PAYMENT_TERMS_DAYS),
        currency=payment.currency,
        seller=seller_snapshot(),
        buyer=buyer_snapshot(organisation),
        tax_treatment=tax.treatment,
        tax_rate_bp=tax.rate_bp,
        tax_note=tax.note,
        net_minor=payment.net_minor,
        tax_minor=payment.tax_minor,
        gross_minor=payment.amount_minor,
        paid=True,
    )
    _finalise(invoice, INVOICE_SERIES)
    _add_line(invoice, line_description(webinar))
    audit.record(
        "invoice.issued",
        invoice,
        actor=actor,
        webinar=webinar,
        data={
            "number": invoice.number,
            "payment": str(payment.code),
            "currency": invoice.currency,
            "gross_minor": invoice.gross_minor,
            "tax_treatment": invoice.tax_treatment,
        },
    )
    _queue_delivery(invoice)
    return invoice


@transaction.atomic
def issue_credit_note(refund: Refund, *, actor: User | None) -> Invoice:
    """Issue the credit note of a refund, or return the one it already has.

    It refers to the payment's invoice (issued first if missing), copies its parties and
    VAT treatment, and credits the refund amount (gross) split into net and VAT at the
    invoice's rate; the refund that completes the credit takes exactly what is left, so
    credit notes never over- or under-credit VAT by a cent. Numbered CN-<year>-<6 digits>,
    audited as `credit_note.issued`, PDF and email queued after commit.
    Raises BillingError for a failed/cancelled refund or one exceeding what is left.

    Dates, as accounting reads a credit note: its issue date is the credit note's own
    date (and the date of the VAT correction); it names the original invoice by number
    and date. It has no due date: the money goes back by our refund, nothing is payable.
    It has a date of supply only when the supply still takes place (a partial credit on
    a webinar that goes ahead keeps the invoice's date). For a cancelled webinar nothing
    was supplied, so the note has no date of supply and says so, instead of showing the
    date the webinar would have taken place.
    """
    # Lock order everywhere in billing: webinar, payment, refund, then invoice rows.
    payment_id = Refund.objects.values_list("payment_id", flat=True).get(pk=refund.pk)
    payment = Payment.objects.select_for_update(no_key=True).get(pk=payment_id)
    refund = Refund.objects.select_for_update(no_key=True).get(pk=refund.pk)
    existing = Invoice.objects.filter(refund=refund).first()
    if existing is not None:
        return existing
    if refund.status != Refund.Status.SUCCEEDED:
        # Credit only money that went back; a pending refund may still fail.
        raise BillingError("refund_not_made")
    if payment.late:
        raise BillingError("not_invoiced")
    invoice = issue_invoice(payment, actor=actor)
    credited = invoice.credit_notes.filter(status=Invoice.Status.ISSUED).aggregate(
        net=Sum("net_minor", default=0),
        tax=Sum("tax_minor", default=0),
        gross=Sum("gross_minor", default=0),
    )
    left_gross = invoice.gross_minor - credited["gross"]
    if refund.currency.upper() != invoice.currency.upper():
        raise BillingError("currency_mismatch")
    if not 0 < refund.amount_minor <= left_gross:
        raise BillingError(
            "credit_exceeds_invoice",
            number=invoice.number,
            left=left_gross,
            amount=refund.amount_minor,
        )
    if refund.amount_minor == left_gross:
        net = invoice.net_minor - credited["net"]
        tax = invoice.tax_minor - credited["tax"]
    else:
        net, tax, _ = split_gross(refund.amount_minor, invoice.tax_rate_bp)
    original = invoice.lines.order_by("position").first()
    cancelled = Webinar.objects.filter(
        pk=invoice.webinar_id, status=Webinar.Status.CANCELLED
    ).exists()
    issue_date = today_utc()
    note = Invoice(
        kind=Invoice.Kind.CREDIT_NOTE,
        webinar_id=invoice.webinar_id,
        organisation_id=invoice.organisation_id,
        payment=payment,
        refund=refund,
        refers_to=invoice,
        issue_date=issue_date,
        supply_date=None if cancelled else invoice.supply_date,
        due_date=None,  # settled by our refund: the buyer owes nothing
        currency=invoice.currency,
        # The credit note amends the invoice (Art. 219), so it names the same parties.
        seller=invoice.seller,
        buyer=invoice.buyer,
        tax_treatment=invoice.tax_treatment,
        tax_rate_bp=invoice.tax_rate_bp,
        tax_note=invoice.tax_note,
        net_minor=net,
        tax_minor=tax,
        gross_minor=refund.amount_minor,
        paid=refund.status == Refund.Status.SUCCEEDED,
    )
    _finalise(note, CREDIT_NOTE_SERIES)
    what = "Cancellation, not supplied" if cancelled else refund.get_reason_display()
    description = (
        f"Credit for invoice {invoice.number} ({what}): {original.description if original else ''}"
    )
    _add_line(note, description)
    audit.record(
        "credit_note.issued",
        note,
        actor=actor,
        webinar=note.webinar,
        data={
            "number": note.number,
            "refers_to": invoice.number,
            "refund": str(refund.code),
            "currency": note.currency,
            "gross_minor": note.gross_minor,
        },
    )
    _queue_delivery(note)
    return note


def deliver_invoice(invoice: Invoice, *, now: datetime | None = None) -> Invoice:
    """Render the PDF if it is missing and email it to the buyer's billing address once.

    Idempotent: `emailed_at` records the email, and the invoice row is locked while
    sending, so a duplicate delivery waits and then finds it done. A crash between the
    send and the commit sends the email again on retry (at least once, never lost).
    """
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update(no_key=True).get(pk=invoice.pk)
        if invoice.status != Invoice.Status.ISSUED:
            raise BillingError("not_issued")
        document = pdf.ensure_pdf(invoice)
        if invoice.emailed_at is not None:
            return invoice
        name = "invoice-issued" if invoice.kind == Invoice.Kind.INVOICE else "credit-note-issued"
        to = invoice.buyer.get("billing_email", "")
        message = emails.make_message(
            name,
            [to],
            {
                "invoice": invoice,
                "seller": invoice.seller,
                "buyer": invoice.buyer,
                "gross": format_money_code(invoice.gross_minor, invoice.currency),
            },
            attachments=[(f"{invoice.number}.pdf", document, "application/pdf")],
        )
        message.send()
        invoice.emailed_at = now or timezone.now()
        invoice.save(update_fields=["emailed_at"])
        audit.record(
            "invoice.emailed" if invoice.kind == Invoice.Kind.INVOICE else "credit_note.emailed",
            invoice,
            actor=None,
            webinar=invoice.webinar,
            data={"number": invoice.number, "to": to},
        )
    return invoice
