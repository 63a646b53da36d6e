"""Invoice and credit-note PDFs: rendered from templates/billing/invoice_pdf.html with
WeasyPrint, stored once in `Invoice.pdf` (the only content-free field that may change
after issue) and read back from storage afterwards, so a document never re-renders
differently later.

Dates shown: an invoice has its issue date, date of supply and due date. A credit note
has its own date, the original invoice's number and date, a date of supply only when it
has one (none for a cancelled webinar) and never a due date (see
`invoicing.issue_credit_note`)."""

from collections import defaultdict
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from billing.models import Invoice
from webinars.formatting import format_money_code as money
from webinars.formatting import format_percent as percent


def _context(invoice: Invoice) -> dict[str, Any]:
    # Credit notes show what they take back as negative amounts, as accounting reads them.
    sign = invoice.sign
    cur = invoice.currency
    lines = list(invoice.lines.order_by("position"))
    by_rate: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for line in lines:
        totals = by_rate[line.tax_rate_bp]
        totals[0] += line.net_minor
        totals[1] += line.tax_minor
        totals[2] += line.gross_minor
    return {
        "invoice": invoice,
        "title": _("Invoice") if invoice.kind == Invoice.Kind.INVOICE else _("Credit note"),
        "seller": invoice.seller,
        "buyer": invoice.buyer,
        "refers_to": invoice.refers_to.number if invoice.refers_to_id else "",
        "refers_to_date": invoice.refers_to.issue_date if invoice.refers_to_id else None,
        # A credit note without a date of supply is a cancellation: nothing was supplied.
        "not_supplied": invoice.kind == Invoice.Kind.CREDIT_NOTE and not invoice.supply_date,
        "webinar_code": invoice.webinar.code,
        "lines": [
            {
                "position": line.position,
                "description": line.description,
                "quantity": line.quantity * sign,
                "unit": money(line.unit_net_minor, cur),
                "rate": percent(line.tax_rate_bp),
                "net": money(sign * line.net_minor, cur),
                "tax": money(sign * line.tax_minor, cur),
                "gross": money(sign * line.gross_minor, cur),
            }
            for line in lines
        ],
        "rates": [
            {
                "rate": percent(rate),
                "net": money(sign * net, cur),
                "tax": money(sign * tax, cur),
                "gross": money(sign * gross, cur),
            }
            for rate, (net, tax, gross) in sorted(by_rate.items())
        ],
        "net": money(sign * invoice.net_minor, cur),
        "tax": money(sign * invoice.tax_minor, cur),
        "gross": money(sign * invoice.gross_minor, cur),
    }


def render_invoice_html(invoice: Invoice) -> str:
    return render_to_string("billing/invoice_pdf.html", _context(invoice))


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The document as PDF bytes (not stored)."""
    from weasyprint import HTML  # imported late: it loads Pango, slow and worker-only

    html = render_invoice_html(invoice)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def ensure_pdf(invoice: Invoice) -> bytes:
    """The stored PDF of an issued document, rendering and storing it the first time.

    The row lock makes two first requests (the delivery task and an organiser's
    download) render once and store one file."""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update(no_key=True).get(pk=invoice.pk)
        if locked.pdf and locked.pdf.storage.exists(locked.pdf.name):
            with locked.pdf.open("rb") as handle:
                data = handle.read()
        else:
            data = render_invoice_pdf(locked)
            locked.pdf.save(f"{locked.number}.pdf", ContentFile(data), save=False)
            locked.save(update_fields=["pdf"])
    invoice.pdf = locked.pdf
    return data
