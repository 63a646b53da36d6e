"""Xero sales-invoice import CSV (Xero's template columns; required ones start with *).

Conventions, to choose on Xero's import screen:
- amounts are **tax exclusive** (UnitAmount is the net unit price, TaxAmount the VAT);
- dates are DD/MM/YYYY (Xero reads the file in the organisation's region format);
- credit notes travel in the same file as **negative quantities** (Quantity = -1 with a
  positive UnitAmount, so the document total is negative); Xero imports a sales
  document with a negative total as a credit note. The Reference names the invoice.
- TaxType must be a tax rate name that exists in the Xero organisation; the defaults
  below are overridable with ACCOUNTING["xero_tax_types"] = {"domestic": "...", ...}.
"""

import csv
from datetime import date
from typing import IO

from django.conf import settings

from billing.exports.common import lines, text_out
from webinars.formatting import amount_text, percent_text

COLUMNS = (
    "*ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "*InvoiceNumber",
    "Reference",
    "*InvoiceDate",
    "*DueDate",
    "Total",
    "InventoryItemCode",
    "*Description",
    "*Quantity",
    "*UnitAmount",
    "Discount",
    "*AccountCode",
    "*TaxType",
    "TaxAmount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
    "BrandingTheme",
)
DEFAULT_TAX_TYPES = {
    "domestic": "{rate} (VAT on Income)",
    "eu_consumer": "{rate} (VAT on Income)",
    "reverse_charge": "Zero Rated EC Services",
    "export": "Zero Rated Income",
}


def _date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def write(start: date, end: date, out: IO[bytes]) -> int:
    """Write the Xero CSV for documents issued in [start, end], one row per line."""
    account_code = str(settings.ACCOUNTING.get("xero_account_code", "200"))
    tax_types = DEFAULT_TAX_TYPES | settings.ACCOUNTING.get("xero_tax_types", {})
    rows = 0
    with text_out(out) as text:
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(COLUMNS)
        for line in lines(start, end):
            doc, buyer = line.doc, line.doc.buyer
            reference = (
                f"Credit for {doc.refers_to}"
                if doc.refers_to
                else buyer.get("po_number") or doc.webinar_code
            )
            tax_type = tax_types.get(doc.tax_treatment, "").format(
                rate=f"{percent_text(line.tax_rate_bp)}%"
            )
            writer.writerow(
                (
                    buyer.get("legal_name", ""),
                    buyer.get("billing_email", ""),
                    buyer.get("address_line1", ""),
                    buyer.get("address_line2", ""),
                    "",
                    "",
                    buyer.get("city", ""),
                    "",
                    buyer.get("postal_code", ""),
                    buyer.get("country", ""),
                    doc.number,
                    reference,
                    _date(doc.issue_date),
                    # Xero requires one; a credit note has none (nothing is payable).
                    _date(doc.due_date or doc.issue_date),
                    amount_text(doc.sign * doc.gross_minor, doc.currency),
                    "",
                    line.description,
                    doc.sign * line.quantity,
                    amount_text(line.unit_net_minor, doc.currency),
                    "",
                    account_code,
                    tax_type,
                    amount_text(doc.sign * line.tax_minor, doc.currency),
                    "",
                    "",
                    "",
                    "",
                    doc.currency,
                    "",
                )
            )
            rows += 1
    return rows
