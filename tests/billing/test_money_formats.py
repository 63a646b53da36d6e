"""Billing writes amounts through `webinars.formatting`: a currency without cents (JPY)
reads without them on the invoice PDF, in the invoice email and in every export, and
each export keeps its own machine format."""

import csv
import io

import pytest
from django.core import mail
from django.utils import timezone
from openpyxl import load_workbook

from billing import pdf
from billing.exports import export_period
from billing.models import Invoice
from billing.services import invoicing
from tests.billing.finance_helpers import (
    made_refund,
    organiser_in,
    paid_payment,
    tmp_media,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.usefixtures("tmp_media")

YEN = 1_350_000  # ¥1,350,000: JPY has no minor unit below the yen


@pytest.fixture
def yen_documents(package_10k, django_capture_on_commit_callbacks):
    package_10k.currency, package_10k.price_minor = "JPY", YEN
    package_10k.save()
    buyer = organiser_in("US", "Tokyo Partners Inc")  # an export: no VAT
    with django_capture_on_commit_callbacks(execute=True):
        invoice = invoicing.issue_invoice(paid_payment(buyer, package_10k), actor=None)
        note = invoicing.issue_credit_note(made_refund(invoice.payment, 350_000), actor=None)
    return invoice, note


def _export(fmt: str) -> bytes:
    today = timezone.now().date()
    out = io.BytesIO()
    export_period(fmt, today, today, out)
    return out.getvalue()


def test_invoice_pdf_and_email_show_yen_without_cents(yen_documents):
    invoice, note = yen_documents
    html = pdf.render_invoice_html(invoice)
    assert "JPY 1,350,000" in html and "13,500.00" not in html
    assert "JPY -350,000" in pdf.render_invoice_html(note)
    email = next(m for m in mail.outbox if invoice.number in m.subject)
    assert "JPY 1,350,000" in email.body


def test_exports_write_yen_as_whole_numbers_in_their_own_formats(yen_documents):
    invoice, note = yen_documents
    journal = list(csv.DictReader(io.StringIO(_export("journal").decode())))
    receivable = {r["document_no"]: r for r in journal if r["account"] == "1400"}
    assert receivable[invoice.number]["debit"] == "1350000"
    assert receivable[note.number]["credit"] == "350000" and receivable[note.number]["debit"] == "0"
    xero = list(csv.DictReader(io.StringIO(_export("xero").decode())))
    assert {r["Total"] for r in xero} == {"1350000", "-350000"}
    datev = _export("datev").decode("cp1252")
    bookings = datev.rstrip("\r\n").split("\r\n")[2:]
    assert sorted(b.split(";")[0] for b in bookings) == ["1350000", "350000"]  # Umsatz
    sheet = load_workbook(io.BytesIO(_export("xlsx")), read_only=True)["Invoices"]
    header, *rows = list(sheet.values)
    assert sorted(row[header.index("Gross")] for row in rows) == [-350_000, 1_350_000]


def test_a_refund_names_its_amount_in_its_currency(yen_documents):
    _invoice, note = yen_documents
    assert str(Invoice.objects.get(pk=note.pk).refund) == "JPY 350,000 succeeded"
