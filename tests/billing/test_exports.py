"""Every export format parsed back: balanced, complete, signed the right way, and the
management command / monthly task that write and send them."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook

from billing import tasks
from billing.exports import EXPORT_FORMATS, datev, export_period, previous_month, xero
from billing.services import invoicing
from tests.billing.finance_helpers import made_refund, organiser_in, paid_payment


@pytest.fixture
def documents(package_10k):
    """A domestic, a reverse-charge and an export invoice, and a credit note."""
    ie = organiser_in("IE", "Dublin Events Ltd", po_number="PO-1")
    de = organiser_in("DE", 'Berlin "Media" GmbH', vat_id="DE136695976")
    us = organiser_in("US", "Acme Campaigns Inc")
    domestic = paid_payment(ie, package_10k)
    invoices = [
        invoicing.issue_invoice(p, actor=None)
        for p in (domestic, paid_payment(de, package_10k), paid_payment(us, package_10k))
    ]
    note = invoicing.issue_credit_note(made_refund(domestic, 500_000), actor=None)
    return invoices, note


def export(fmt: str, start=None, end=None) -> tuple[bytes, int]:
    today = timezone.now().date()
    out = io.BytesIO()
    rows = export_period(fmt, start or today, end or today, out)
    return out.getvalue(), rows


def dec(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


def expected_total(invoices, note) -> Decimal:
    # 11,070.00 + 9,000.00 + 9,000.00 - 5,000.00
    total = sum(i.gross_minor for i in invoices) - note.gross_minor
    assert total == 2_407_000
    return Decimal(total) / 100


def test_journal_is_balanced_per_entry_and_sums_to_the_documents(documents):
    invoices, note = documents
    data, rows = export("journal")
    records = list(csv.DictReader(io.StringIO(data.decode())))
    assert rows == len(records) == 3 + 2 + 2 + 3  # VAT legs only where there is VAT
    entries: dict[str, list[dict]] = {}
    for record in records:
        entries.setdefault(record["entry_id"], []).append(record)
    assert set(entries) == {i.number for i in invoices} | {note.number}
    for legs in entries.values():
        assert sum(dec(r["debit"]) for r in legs) == sum(dec(r["credit"]) for r in legs)
    receivable = [r for r in records if r["account"] == "1400"]
    assert sum(dec(r["debit"]) - dec(r["credit"]) for r in receivable) == expected_total(*documents)
    credit_legs = entries[note.number]
    assert {r["document_type"] for r in credit_legs} == {"credit_note"}
    assert dec(next(r for r in credit_legs if r["account"] == "1400")["credit"]) == 5000
    assert dec(next(r for r in credit_legs if r["account"] == "1776")["debit"]) == Decimal("934.96")
    by_code = {r["tax_code"] for r in records if r["account"] not in ("1400", "1776")}
    assert by_code == {"VAT23", "RC0", "OOS0"}
    reverse = next(r for r in records if r["tax_code"] == "RC0")
    assert reverse["account"] == "8336" and reverse["counterparty_vat_id"] == "DE136695976"
    assert all(r["currency"] == "USD" and r["date"] == str(timezone.now().date()) for r in records)


def test_xlsx_reopens_with_one_row_per_document_and_per_line(documents):
    invoices, note = documents
    data, rows = export("xlsx")
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    assert workbook.sheetnames == ["Invoices", "Lines"]
    header, *docs = list(workbook["Invoices"].values)
    assert header[0] == "Number" and len(docs) == 4
    gross = header.index("Gross")
    assert round(sum(Decimal(str(d[gross])) for d in docs), 2) == expected_total(*documents)
    credit = next(d for d in docs if d[0] == note.number)
    assert credit[header.index("Type")] == "Credit note" and credit[gross] == -5000
    assert credit[header.index("Refers to")] == invoices[0].number
    line_header, *lines = list(workbook["Lines"].values)
    assert len(lines) == 4 and rows == 8
    line_gross = line_header.index("Gross")
    assert round(sum(Decimal(str(r[line_gross])) for r in lines), 2) == expected_total(*documents)


def test_xero_csv_has_the_template_columns_and_negative_credit_notes(documents):
    invoices, note = documents
    data, rows = export("xero")
    reader = csv.DictReader(io.StringIO(data.decode()))
    required = {
        "*ContactName",
        "*InvoiceNumber",
        "*InvoiceDate",
        "*DueDate",
        "*Description",
        "*Quantity",
        "*UnitAmount",
        "*AccountCode",
        "*TaxType",
    }
    assert required <= set(reader.fieldnames) and list(reader.fieldnames) == list(xero.COLUMNS)
    records = list(reader)
    assert rows == len(records) == 4
    total = sum(int(r["*Quantity"]) * dec(r["*UnitAmount"]) + dec(r["TaxAmount"]) for r in records)
    assert total == expected_total(*documents)
    credit = next(r for r in records if r["*InvoiceNumber"] == note.number)
    assert credit["*Quantity"] == "-1" and dec(credit["Total"]) == -5000
    assert credit["Reference"] == f"Credit for {invoices[0].number}"
    domestic = next(r for r in records if r["*InvoiceNumber"] == invoices[0].number)
    assert domestic["*TaxType"] == "23% (VAT on Income)" and domestic["Reference"] == "PO-1"
    assert domestic["*InvoiceDate"] == timezone.now().date().strftime("%d/%m/%Y")


def test_datev_file_has_the_extf_header_column_names_and_reconciling_amounts(documents):
    invoices, note = documents
    data, rows = export("datev")
    text = data.decode("cp1252")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    first, second, *bookings = text.rstrip("\r\n").split("\r\n")
    assert first.startswith('"EXTF";700;21;"Buchungsstapel";13;')
    header = first.split(";")
    today = timezone.now().date()
    assert header[10:16] == [
        "1001",
        "1",
        f"{today.year}0101",
        "4",
        f"{today:%Y%m%d}",
        f"{today:%Y%m%d}",
    ]
    assert header[21] == '"USD"'  # the documents' currency, as on every line
    columns = [c.strip('"') for c in second.split(";")]
    assert columns[:3] == ["Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz"]
    assert len(columns) == len(datev.COLUMNS) == 125
    assert rows == len(bookings) == 4
    parsed = list(csv.reader(bookings, delimiter=";"))
    assert all(len(b) == 125 for b in parsed)
    amount, flag, konto, belegdatum, beleg = (
        columns.index(c)
        for c in (
            "Umsatz (ohne Soll/Haben-Kz)",
            "Soll/Haben-Kennzeichen",
            "Konto",
            "Belegdatum",
            "Belegfeld 1",
        )
    )
    assert all("," in b[amount] and "." not in b[amount] for b in parsed)
    signed = sum(dec(b[amount]) * (1 if b[flag] == "S" else -1) for b in parsed)
    assert signed == expected_total(*documents)
    credit = next(b for b in parsed if b[beleg] == note.number)
    assert (credit[flag], credit[amount], credit[konto]) == ("H", "5000,00", "1400")
    assert {b[belegdatum] for b in parsed} == {today.strftime("%d%m")}
    reverse = next(b for b in parsed if b[beleg] == invoices[1].number)
    assert reverse[columns.index("EU-Land u. UStID (Bestimmung)")] == "DE136695976"
    assert reverse[columns.index("Gegenkonto (ohne BU-Schlüssel)")] == "8336"
    assert 'Berlin ""Media"" GmbH' in text  # inner quotes doubled


def test_datev_refuses_a_batch_spanning_two_years(db):
    with pytest.raises(ValueError, match="one calendar year"):
        export_period(
            "datev",
            timezone.now().date().replace(month=12, day=1),
            timezone.now().date().replace(year=timezone.now().year + 1, day=1),
            io.BytesIO(),
        )


def test_documents_outside_the_period_are_left_out(documents):
    yesterday = timezone.now().date() - timedelta(days=1)
    for fmt in EXPORT_FORMATS:
        _data, rows = export(fmt, yesterday - timedelta(days=30), yesterday)
        assert rows == 0, fmt


def test_previous_month_is_the_whole_calendar_month_before():
    from datetime import date

    assert previous_month(date(2026, 3, 15)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert previous_month(date(2026, 1, 1)) == (date(2025, 12, 1), date(2025, 12, 31))


def test_command_writes_all_four_files_and_can_email_them(documents, tmp_path, settings):
    today = timezone.now().date().isoformat()
    out = io.StringIO()
    call_command(
        "export_accounting",
        "--format",
        "all",
        "--from",
        today,
        "--to",
        today,
        "--out",
        str(tmp_path / "exports"),
        "--email",
        stdout=out,
    )
    names = sorted(p.name for p in (tmp_path / "exports").iterdir())
    assert names == sorted(
        f.filename(timezone.now().date(), timezone.now().date()) for f in EXPORT_FORMATS.values()
    )
    assert any(n.startswith("EXTF_") for n in names)
    assert "4 rows" in out.getvalue()
    [message] = mail.outbox
    assert message.to == [settings.FINANCE_EMAIL]
    assert sorted(a[0] for a in message.attachments) == names


def test_command_defaults_to_the_previous_month_and_one_format(db, tmp_path):
    call_command(
        "export_accounting", "--format", "journal", "--out", str(tmp_path), stdout=io.StringIO()
    )
    start, end = previous_month(timezone.now().date())
    assert [p.name for p in tmp_path.iterdir()] == [f"journal_{start}_{end}.csv"]


def test_monthly_task_emails_last_month_in_every_format(db, settings):
    tasks.monthly_export_task()
    [message] = mail.outbox
    assert message.to == [settings.FINANCE_EMAIL]
    assert len(message.attachments) == 4
    start, end = previous_month(timezone.now().date())
    assert str(start) in message.subject and str(end) in message.subject


def test_organiser_text_never_becomes_a_spreadsheet_formula():
    from billing.exports.common import safe_text

    assert safe_text('=HYPERLINK("http://evil.example","x")').startswith("'=")
    assert safe_text("+1 555") == "'+1 555"
    assert safe_text("@SUM(A1)") == "'@SUM(A1)"
    assert safe_text("Acme Inc") == "Acme Inc"
    assert safe_text(42) == 42
