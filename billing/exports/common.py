"""What every export format reads, and how it spells accounts and tax codes (amounts and
rates are written by `webinars.formatting.amount_text` / `percent_text`).

Rows are streamed: each query is a server-side cursor (`.iterator(chunk_size=2000)`)
over `values_list` tuples, so memory stays flat however many documents a period has.
"""

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import IO, Any, NamedTuple

from django.conf import settings

from billing.models import Invoice, InvoiceLine
from webinars.formatting import percent_text

CHUNK = 2000


class Doc(NamedTuple):
    """One issued invoice or credit note; amounts positive, `sign` says which way."""

    id: int
    kind: str
    number: str
    issue_date: date
    supply_date: date | None  # none on a credit note for a cancelled webinar
    due_date: date | None  # none on credit notes
    currency: str
    tax_treatment: str
    tax_rate_bp: int
    tax_note: str
    net_minor: int
    tax_minor: int
    gross_minor: int
    buyer: dict[str, Any]
    webinar_code: str
    refers_to: str | None

    @property
    def sign(self) -> int:
        return -1 if self.kind == Invoice.Kind.CREDIT_NOTE else 1


DOC_FIELDS = (
    "id",
    "kind",
    "number",
    "issue_date",
    "supply_date",
    "due_date",
    "currency",
    "tax_treatment",
    "tax_rate_bp",
    "tax_note",
    "net_minor",
    "tax_minor",
    "gross_minor",
    "buyer",
    "webinar__code",
    "refers_to__number",
)


class Line(NamedTuple):
    doc: Doc
    position: int
    description: str
    quantity: int
    unit_net_minor: int
    net_minor: int
    tax_rate_bp: int
    tax_minor: int
    gross_minor: int


LINE_FIELDS = (
    "position",
    "description",
    "quantity",
    "unit_net_minor",
    "net_minor",
    "tax_rate_bp",
    "tax_minor",
    "gross_minor",
)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: Any) -> Any:
    """Organiser-typed text (legal name, PO number, title) must never become a spreadsheet
    formula in finance's tools: a leading = + - @ TAB or CR is escaped with a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _safe_doc(doc: Doc) -> Doc:
    return doc._replace(buyer={k: safe_text(v) for k, v in (doc.buyer or {}).items()})


def _issued(start: date, end: date) -> dict[str, Any]:
    return {"status": Invoice.Status.ISSUED, "issue_date__gte": start, "issue_date__lte": end}


def documents(start: date, end: date) -> Iterator[Doc]:
    """Issued documents with issue_date in [start, end], by date then number."""
    rows = (
        Invoice.objects.filter(**_issued(start, end))
        .order_by("issue_date", "kind", "number")
        .values_list(*DOC_FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    for row in rows:
        yield _safe_doc(Doc._make(row))


def currencies(start: date, end: date) -> list[str]:
    """The currencies of the documents issued in [start, end], sorted."""
    found = Invoice.objects.filter(**_issued(start, end)).values_list("currency", flat=True)
    return sorted({code.upper() for code in found.distinct()})


def lines(start: date, end: date) -> Iterator[Line]:
    """The lines of the same documents, in the same order, with their document."""
    doc_fields = tuple(f"invoice__{name}" for name in DOC_FIELDS)
    rows = (
        InvoiceLine.objects.filter(**{f"invoice__{k}": v for k, v in _issued(start, end).items()})
        .order_by("invoice__issue_date", "invoice__kind", "invoice__number", "position")
        .values_list(*doc_fields, *LINE_FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    width = len(DOC_FIELDS)
    for row in rows:
        line = Line(_safe_doc(Doc._make(row[:width])), *row[width:])
        yield line._replace(description=safe_text(line.description))


def revenue_account(treatment: str) -> str:
    """Revenue is booked per VAT treatment, as VAT returns report each separately."""
    accounts = settings.ACCOUNTING
    if treatment == Invoice.TaxTreatment.REVERSE_CHARGE:
        return str(accounts["revenue_reverse_charge"])
    if treatment == Invoice.TaxTreatment.EXPORT:
        return str(accounts["revenue_export"])
    return str(accounts["revenue"])


def tax_code(treatment: str, rate_bp: int) -> str:
    """A short, stable code per treatment and rate: VAT23, VAT25.5, RC0, OOS0."""
    if treatment == Invoice.TaxTreatment.REVERSE_CHARGE:
        return "RC0"
    if treatment == Invoice.TaxTreatment.EXPORT:
        return "OOS0"
    return f"VAT{percent_text(rate_bp)}"


def kind_label(kind: str) -> str:
    return "Credit note" if kind == Invoice.Kind.CREDIT_NOTE else "Invoice"


@contextmanager
def text_out(
    out: IO[bytes], *, encoding: str = "utf-8", errors: str = "strict"
) -> Iterator[io.TextIOWrapper]:
    """A text view of the binary `out` for csv.writer; detached, not closed, at the end,
    so the caller's stream (a file, a response buffer) stays open."""
    wrapper = io.TextIOWrapper(out, encoding=encoding, errors=errors, newline="")
    try:
        yield wrapper
    finally:
        wrapper.flush()
        wrapper.detach()
