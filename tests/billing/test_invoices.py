"""Issuing invoices and credit notes: content, idempotency, immutability, numbering
series, audit rows, delivery."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib import admin
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.utils import timezone

from billing import pdf, tasks
from billing.errors import BillingError
from billing.models import ImmutableInvoiceError, Invoice, Payment, Refund
from billing.services import invoicing
from tests.billing.finance_helpers import (
    made_refund,
    organiser_in,
    paid_payment,
    tmp_media,  # noqa: F401 - fixture
)
from webinars import services
from webinars.models import AuditEntry

pytestmark = pytest.mark.usefixtures("tmp_media")


def year() -> int:
    return timezone.now().year


def test_invoice_snapshots_seller_buyer_amounts_dates_and_line(organiser, package_10k, settings):
    settings.INVOICE_PAYMENT_TERMS_DAYS = 14
    payment = paid_payment(organiser, package_10k)
    invoice = invoicing.issue_invoice(payment, actor=organiser)
    invoice.refresh_from_db()
    webinar = payment.webinar
    today = timezone.now().date()
    assert invoice.kind == "invoice" and invoice.status == "issued" and invoice.paid
    assert invoice.number == f"INV-{year()}-000001"
    assert (invoice.series, invoice.year, invoice.sequence) == ("INV", year(), 1)
    assert invoice.issue_date == today
    assert invoice.due_date == today + timedelta(days=14)
    local_start = webinar.start_at.astimezone(ZoneInfo(webinar.time_zone))
    assert invoice.supply_date == local_start.date()
    assert invoice.seller == settings.SELLER
    assert invoice.buyer == {
        "legal_name": "Acme Campaigns Inc",
        "address_line1": "1 Main Street",
        "address_line2": "",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "US",
        "vat_id": "",
        "billing_email": "billing@acme.example",
        "po_number": "",
        "code": str(organiser.membership.organisation.code),
    }
    # A US buyer: outside the scope of EU VAT.
    assert (invoice.tax_treatment, invoice.tax_rate_bp) == ("export", 0)
    assert invoice.tax_note == "Outside the scope of EU VAT"
    assert (invoice.net_minor, invoice.tax_minor, invoice.gross_minor) == (900_000, 0, 900_000)
    assert invoice.currency == "USD" and invoice.payment == payment
    [line] = invoice.lines.all()
    assert line.description == (
        f"10k webinar — single-use webinar capacity package: Launch keynote, "
        f"{local_start:%a %d %b %Y, %H:%M} {local_start.tzname()}"
    )
    assert local_start.tzname() in ("EST", "EDT")
    assert (
        line.quantity,
        line.unit_net_minor,
        line.net_minor,
        line.tax_minor,
        line.gross_minor,
    ) == (1, 900_000, 900_000, 0, 900_000)


def test_domestic_invoice_charges_the_seller_rate(package_10k):
    user = organiser_in("IE", "Dublin Events Ltd", vat_id="IE6388047V", po_number="PO-77")
    invoice = invoicing.issue_invoice(paid_payment(user, package_10k), actor=None)
    assert (invoice.tax_treatment, invoice.tax_rate_bp, invoice.tax_note) == ("domestic", 2300, "")
    assert (invoice.net_minor, invoice.tax_minor, invoice.gross_minor) == (
        900_000,
        207_000,
        1_107_000,
    )
    assert invoice.buyer["po_number"] == "PO-77"
    html = pdf.render_invoice_html(invoice)
    for text in (
        invoice.number,
        "Dublin Events Ltd",
        "IE6388047V",
        "PO-77",
        "23%",
        "USD 2,070.00",
        "USD 11,070.00",
        settings.SELLER["vat_id"],
        "Date of supply",
        "Due date",
    ):
        assert text in html


def test_reverse_charge_invoice_carries_the_buyer_vat_id_and_the_mention(package_10k):
    user = organiser_in("DE", "Berlin Media GmbH", vat_id="DE136695976")
    invoice = invoicing.issue_invoice(paid_payment(user, package_10k), actor=None)
    assert (invoice.tax_treatment, invoice.tax_minor) == ("reverse_charge", 0)
    html = pdf.render_invoice_html(invoice)
    assert "DE136695976" in html
    assert "Reverse charge" in html and "Art. 196 Directive 2006/112/EC" in html


def test_issuing_twice_returns_the_same_invoice_and_audits_once(organiser, package_10k):
    payment = paid_payment(organiser, package_10k)
    first = invoicing.issue_invoice(payment, actor=organiser)
    second = invoicing.issue_invoice(payment, actor=organiser)
    assert first.pk == second.pk
    assert Invoice.objects.count() == 1
    entry = AuditEntry.objects.get(action="invoice.issued")
    assert entry.actor == organiser and entry.webinar == payment.webinar
    assert entry.subject_code == str(first.code)
    assert entry.data["number"] == first.number and entry.data["gross_minor"] == 900_000


def test_unpaid_payment_is_not_invoiced(organiser, package_10k):
    payment = paid_payment(organiser, package_10k)
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.OPEN)
    with pytest.raises(BillingError) as exc_info:
        invoicing.issue_invoice(payment, actor=None)
    assert exc_info.value.code == "not_paid"
    assert not Invoice.objects.exists()


def test_buyer_snapshot_is_kept_when_the_organisation_changes_later(organiser, package_10k):
    invoice = invoicing.issue_invoice(paid_payment(organiser, package_10k), actor=None)
    services.update_organisation(
        organiser.membership.organisation,
        actor=organiser,
        legal_name="Acme Renamed Corp",
        address_line1="9 New Road",
    )
    invoice.refresh_from_db()
    assert invoice.buyer["legal_name"] == "Acme Campaigns Inc"
    assert invoice.buyer["address_line1"] == "1 Main Street"
    assert "Acme Campaigns Inc" in pdf.render_invoice_html(invoice)


def test_issued_invoice_cannot_be_changed_or_deleted(organiser, package_10k):
    invoice = invoicing.issue_invoice(paid_payment(organiser, package_10k), actor=None)
    invoice.gross_minor = 1
    with pytest.raises(ImmutableInvoiceError):
        invoice.save()
    with pytest.raises(ImmutableInvoiceError):
        invoice.save(update_fields=["gross_minor", "emailed_at"])
    with pytest.raises(ImmutableInvoiceError):
        invoice.delete()
    invoice.refresh_from_db()
    assert invoice.gross_minor == 900_000
    # Delivery bookkeeping is not content.
    invoice.emailed_at = timezone.now()
    invoice.save(update_fields=["emailed_at"])


def test_database_refuses_to_change_or_delete_issued_documents_whatever_the_path(
    organiser, package_10k
):
    invoice = invoicing.issue_invoice(paid_payment(organiser, package_10k), actor=None)
    issued = Invoice.objects.filter(pk=invoice.pk)
    for write in (
        lambda: issued.update(gross_minor=1),
        lambda: issued.update(buyer={"legal_name": "Someone else"}),
        lambda: issued.delete(),
        lambda: invoice.lines.update(description="edited"),
        lambda: invoice.lines.all().delete(),
    ):
        with pytest.raises(IntegrityError, match="issued"), transaction.atomic():
            write()
    # The delivery bookkeeping columns stay writable.
    assert issued.update(emailed_at=timezone.now(), paid=False) == 1
    invoice.refresh_from_db()
    assert invoice.gross_minor == 900_000 and invoice.lines.count() == 1


def test_admin_cannot_add_change_or_delete_invoices(organiser, staff, package_10k, client):
    invoice = invoicing.issue_invoice(paid_payment(organiser, package_10k), actor=None)
    model_admin = admin.site._registry[Invoice]
    request = RequestFactory().get("/admin/")
    request.user = staff  # a superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, invoice)
    assert not model_admin.has_delete_permission(request, invoice)
    assert "delete_selected" not in model_admin.get_actions(request)
    client.force_login(staff)
    page = client.get(f"/admin/billing/invoice/{invoice.pk}/change/")
    assert page.status_code == 200 and invoice.number in page.text
    assert client.get(f"/admin/billing/invoice/{invoice.pk}/delete/").status_code == 403
    assert (
        client.post(f"/admin/billing/invoice/{invoice.pk}/change/", {"gross_minor": 1}).status_code
        == 403
    )
    document = client.get(f"/admin/billing/invoice/{invoice.pk}/pdf/")
    assert document.status_code == 200 and document.content.startswith(b"%PDF")
    assert Invoice.objects.get(pk=invoice.pk).gross_minor == 900_000


def test_credit_notes_refer_to_the_invoice_number_in_their_own_series(package_10k):
    user = organiser_in("IE", "Dublin Events Ltd")
    payment = paid_payment(user, package_10k)  # 9,000.00 + 23 % = 11,070.00
    invoice = invoicing.issue_invoice(payment, actor=None)
    first = invoicing.issue_credit_note(made_refund(payment, 500_000), actor=user)
    assert first.kind == "credit_note" and first.number == f"CN-{year()}-000001"
    assert first.refers_to == invoice and first.series == "CN"
    assert first.gross_minor == 500_000
    # 5,000.00 gross at 23 %: net 4,065.04, VAT 934.96.
    assert (first.net_minor, first.tax_minor) == (406_504, 93_496)
    assert first.buyer == invoice.buyer and first.tax_treatment == "domestic"
    assert first.lines.get().description.startswith(f"Credit for invoice {invoice.number}")
    html = pdf.render_invoice_html(first)
    assert f"Credit note for invoice {invoice.number}" in html
    # The refund of what is left takes exactly what is left, to the cent.
    payment.refresh_from_db()
    second = invoicing.issue_credit_note(made_refund(payment, 607_000), actor=user)
    assert second.number == f"CN-{year()}-000002"
    assert first.net_minor + second.net_minor == invoice.net_minor
    assert first.tax_minor + second.tax_minor == invoice.tax_minor
    # Invoice numbering is untouched by credit notes.
    assert Invoice.objects.filter(kind="invoice").get().number == f"INV-{year()}-000001"
    entry = AuditEntry.objects.filter(action="credit_note.issued").order_by("id").first()
    assert entry.actor == user and entry.data["refers_to"] == invoice.number


def test_credit_note_is_idempotent_and_issues_a_missing_invoice_first(organiser, package_10k):
    payment = paid_payment(organiser, package_10k)
    refund = made_refund(payment, 900_000)
    note = invoicing.issue_credit_note(refund, actor=None)
    assert invoicing.issue_credit_note(refund, actor=None).pk == note.pk
    assert note.refers_to.payment == payment and note.refers_to.number == f"INV-{year()}-000001"
    assert (note.net_minor, note.tax_minor, note.gross_minor) == (900_000, 0, 900_000)
    assert Invoice.objects.count() == 2
    assert AuditEntry.objects.filter(action="credit_note.issued").count() == 1
    assert AuditEntry.objects.filter(action="invoice.issued").count() == 1


def test_credit_beyond_the_invoice_or_for_a_failed_refund_is_refused(organiser, package_10k):
    payment = paid_payment(organiser, package_10k)
    invoicing.issue_invoice(payment, actor=None)
    too_much = Refund.objects.create(
        payment=payment,
        amount_minor=900_001,
        currency="USD",
        status=Refund.Status.SUCCEEDED,
        reason="staff",
    )
    with pytest.raises(BillingError) as exc_info:
        invoicing.issue_credit_note(too_much, actor=None)
    assert exc_info.value.code == "credit_exceeds_invoice"
    failed = made_refund(payment, 100, status=Refund.Status.FAILED)
    with pytest.raises(BillingError):
        invoicing.issue_credit_note(failed, actor=None)
    assert not Invoice.objects.filter(kind="credit_note").exists()


def test_delivery_after_commit_renders_the_pdf_and_emails_it_once(
    organiser, package_10k, django_capture_on_commit_callbacks
):
    payment = paid_payment(organiser, package_10k)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = invoicing.issue_invoice(payment, actor=None)
    invoice.refresh_from_db()
    assert invoice.pdf.name.endswith(f"{invoice.number}.pdf") and invoice.emailed_at
    [message] = mail.outbox
    assert message.to == ["billing@acme.example"]
    assert invoice.number in message.subject
    [(filename, content, mimetype)] = message.attachments
    assert filename == f"{invoice.number}.pdf" and mimetype == "application/pdf"
    assert content.startswith(b"%PDF")
    # A redelivered task changes nothing and sends nothing.
    tasks.render_and_email_invoice_task(invoice_id=invoice.pk)
    assert len(mail.outbox) == 1
    assert AuditEntry.objects.filter(action="invoice.emailed").count() == 1


def test_credit_note_email_names_the_invoice(
    organiser, package_10k, django_capture_on_commit_callbacks
):
    payment = paid_payment(organiser, package_10k)
    with django_capture_on_commit_callbacks(execute=True):
        note = invoicing.issue_credit_note(made_refund(payment, 450_000), actor=None)
    subjects = sorted(m.subject for m in mail.outbox)
    assert f"Credit note {note.number} for invoice {note.refers_to.number}" in subjects
