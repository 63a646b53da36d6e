"""Generic double-entry journal CSV (there is no standard one to follow): one entry per
document, balanced per entry_id. An invoice debits receivables with the gross and
credits revenue with the net and VAT payable with the tax; a credit note reverses it."""

import csv
from datetime import date
from typing import IO

from django.conf import settings

from billing.exports.common import (
    documents,
    kind_label,
    revenue_account,
    tax_code,
    text_out,
)
from webinars.formatting import amount_text

COLUMNS = (
    "entry_id",
    "date",
    "document_no",
    "document_type",
    "account",
    "debit",
    "credit",
    "currency",
    "tax_code",
    "tax_amount",
    "counterparty_name",
    "counterparty_vat_id",
    "country",
    "description",
)


def write(start: date, end: date, out: IO[bytes]) -> int:
    """Write the journal of documents issued in [start, end]; returns the rows written."""
    accounts = settings.ACCOUNTING
    receivable, vat_payable = str(accounts["receivable"]), str(accounts["vat_payable"])
    rows = 0
    with text_out(out) as text:
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(COLUMNS)
        for doc in documents(start, end):
            code = tax_code(doc.tax_treatment, doc.tax_rate_bp)
            party = (
                doc.buyer.get("legal_name", ""),
                doc.buyer.get("vat_id", ""),
                doc.buyer.get("country", ""),
            )
            description = f"{kind_label(doc.kind)} {doc.number}, webinar {doc.webinar_code}"
            if doc.refers_to:
                description += f", credits {doc.refers_to}"
            common = (doc.number, doc.issue_date.isoformat(), doc.number, doc.kind)
            gross, net, tax = (
                amount_text(doc.gross_minor, doc.currency),
                amount_text(doc.net_minor, doc.currency),
                amount_text(doc.tax_minor, doc.currency),
            )
            zero = amount_text(0, doc.currency)
            # (account, amount, tax code, tax amount); the side follows the document kind.
            legs = [
                (receivable, gross, "", ""),
                (revenue_account(doc.tax_treatment), net, code, tax),
            ]
            if doc.tax_minor:
                legs.append((vat_payable, tax, code, ""))
            for index, (account, amount, leg_code, leg_tax) in enumerate(legs):
                # Receivables are the debit side of an invoice; everything flips on a credit note.
                debit_side = (index == 0) == (doc.sign > 0)
                writer.writerow(
                    (
                        *common,
                        account,
                        amount if debit_side else zero,
                        zero if debit_side else amount,
                        doc.currency,
                        leg_code,
                        leg_tax,
                        *party,
                        description,
                    )
                )
                rows += 1
    return rows
