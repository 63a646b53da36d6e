"""Organiser-facing invoice download. Fetches through `get_invoice_for_user`, so another
organisation's invoice is a 404, never a 403 that would reveal it exists."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from billing import pdf, selectors


@require_GET
@login_required
def invoice_pdf(request: HttpRequest, code: str) -> HttpResponse:
    """The PDF of one of the organiser's invoices or credit notes (rendered and stored
    on first request if the delivery task has not done it yet)."""
    invoice = selectors.get_invoice_for_user(request.user, code)
    response = HttpResponse(pdf.ensure_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response
