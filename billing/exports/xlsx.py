"""XLSX workbook for finance: sheet "Invoices" (one row per document) and sheet "Lines"
(one row per line). openpyxl's write-only mode spools each sheet's rows to a temporary
file, so memory stays flat. Amounts are signed (credit notes negative), so a column sum
is the period's net figure. Cells hold exact Decimals in the currency's decimals
(`webinars.formatting.to_decimal`), never floats."""

from datetime import date
from typing import IO

from openpyxl import Workbook

from billing.exports.common import documents, kind_label, lines
from webinars.formatting import percent_decimal, to_decimal

INVOICE_COLUMNS = (
    "Number",
    "Type",
    "Issue date",
    "Supply date",
    "Due date",
    "Customer",
    "Customer VAT id",
    "Country",
    "PO number",
    "Webinar",
    "Refers to",
    "Currency",
    "Tax treatment",
    "VAT rate %",
    "Net",
    "VAT",
    "Gross",
)
LINE_COLUMNS = (
    "Number",
    "Type",
    "Issue date",
    "Position",
    "Description",
    "Quantity",
    "Unit net",
    "Currency",
    "VAT rate %",
    "Net",
    "VAT",
    "Gross",
)


def write(start: date, end: date, out: IO[bytes]) -> int:
    """Write the workbook for documents issued in [start, end]; returns data rows
    written over both sheets."""
    workbook = Workbook(write_only=True)
    invoices = workbook.create_sheet("Invoices")
    invoices.append(INVOICE_COLUMNS)
    rows = 0
    for doc in documents(start, end):
        sign = doc.sign
        invoices.append(
            (
                doc.number,
                kind_label(doc.kind),
                doc.issue_date,
                doc.supply_date,
                doc.due_date,
                doc.buyer.get("legal_name", ""),
                doc.buyer.get("vat_id", ""),
                doc.buyer.get("country", ""),
                doc.buyer.get("po_number", ""),
                doc.webinar_code,
                doc.refers_to or "",
                doc.currency,
                doc.tax_treatment,
                percent_decimal(doc.tax_rate_bp),
                to_decimal(sign * doc.net_minor, doc.currency),
                to_decimal(sign * doc.tax_minor, doc.currency),
                to_decimal(sign * doc.gross_minor, doc.currency),
            )
        )
        rows += 1
    sheet = workbook.create_sheet("Lines")
    sheet.append(LINE_COLUMNS)
    for line in lines(start, end):
        sign = line.doc.sign
        sheet.append(
            (
                line.doc.number,
                kind_label(line.doc.kind),
                line.doc.issue_date,
                line.position,
                line.description,
                sign * line.quantity,
                to_decimal(line.unit_net_minor, line.doc.currency),
                line.doc.currency,
                percent_decimal(line.tax_rate_bp),
                to_decimal(sign * line.net_minor, line.doc.currency),
                to_decimal(sign * line.tax_minor, line.doc.currency),
                to_decimal(sign * line.gross_minor, line.doc.currency),
            )
        )
        rows += 1
    workbook.save(out)
    return rows
