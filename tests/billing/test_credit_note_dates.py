"""Which dates a credit note shows: its own date and the original invoice's number and
date; never a due date (we pay the refund); a date of supply only for a supply that takes
place, so never for a cancelled webinar."""

from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from billing import pdf
from billing.models import Invoice, Refund
from billing.services import invoicing
from billing.services.cancellation import cancel_webinar
from tests.billing.conftest import wait_for
from tests.billing.finance_helpers import (
    made_refund,
    organiser_in,
    paid_payment,
    tmp_media,  # noqa: F401 - fixture
)
from tests.billing.test_cancellation import _paid

pytestmark = pytest.mark.usefixtures("tmp_media")


def _header(html: str) -> str:
    """The document's meta table (number, dates, references)."""
    return html.split('<table class="meta">', 1)[1].split("</table>", 1)[0]


def test_a_cancellation_credit_note_has_no_supply_date_and_no_due_date(
    live_stripe, organiser, package_10k
):
    webinar, payment = _paid(organiser, package_10k, live_stripe, days=40)
    invoice = wait_for(lambda: Invoice.objects.filter(payment=payment, kind="invoice").first())
    webinar, refund = cancel_webinar(webinar, actor=organiser)
    wait_for(lambda: Refund.objects.get(pk=refund.pk).status == "succeeded")
    note = wait_for(lambda: Invoice.objects.filter(refund=refund).first())

    assert note.supply_date is None and note.due_date is None
    assert note.issue_date == timezone.now().date()
    event_day = webinar.start_at.astimezone(ZoneInfo(webinar.time_zone)).date()
    header = _header(pdf.render_invoice_html(note))
    assert "Date of supply" not in header and "Due date" not in header
    assert f"{event_day:%Y-%m-%d}" not in header
    assert "Credit note date" in header and f"{note.issue_date:%Y-%m-%d}" in header
    assert "Original invoice" in header
    assert f"{invoice.number} of {invoice.issue_date:%Y-%m-%d}" in header
    html = pdf.render_invoice_html(note)
    assert "cancelled" in html and "nothing was supplied" in html

    # The invoice itself keeps its date of supply and its due date.
    invoice_header = _header(pdf.render_invoice_html(invoice))
    assert "Date of supply" in invoice_header and f"{event_day:%Y-%m-%d}" in invoice_header
    assert "Due date" in invoice_header


def test_a_partial_credit_for_a_webinar_that_goes_ahead_keeps_its_supply_date(package_10k):
    user = organiser_in("IE", "Dublin Events Ltd")
    payment = paid_payment(user, package_10k)
    invoice = invoicing.issue_invoice(payment, actor=None)
    note = invoicing.issue_credit_note(made_refund(payment, 100_000), actor=None)
    assert note.supply_date == invoice.supply_date and note.due_date is None
    header = _header(pdf.render_invoice_html(note))
    assert "Date of supply" in header and "Due date" not in header
    assert "nothing was supplied" not in pdf.render_invoice_html(note)
