"""Gapless, unique invoice numbers when many payments are invoiced at once, on
PostgreSQL with one real connection per thread."""

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from billing import tasks
from billing.models import Invoice, InvoiceSequence, Payment
from billing.services import invoicing
from tests.billing.finance_helpers import paid_payment

pytestmark = pytest.mark.django_db(transaction=True)


def test_50_concurrent_finalisations_number_1_to_50_without_gaps_or_duplicates(
    organiser, package_10k, monkeypatch
):
    assert connection.vendor == "postgresql"
    # Delivery (PDF + email) is not under test; it would run in each thread after commit.
    monkeypatch.setattr(tasks.render_and_email_invoice_task, "delay", lambda **kwargs: None)
    payment_ids = [paid_payment(organiser, package_10k, title=f"Keynote {i}").pk for i in range(50)]
    barrier = threading.Barrier(50)
    numbers: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()

    def finalise(payment_id: int) -> None:
        try:
            barrier.wait()
            invoice = invoicing.issue_invoice(Payment.objects.get(pk=payment_id), actor=None)
            with lock:
                numbers.append(invoice.number)
        except Exception as exc:  # any error (deadlock, duplicate) fails the test
            with lock:
                errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=finalise, args=(pk,)) for pk in payment_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    year = timezone.now().year
    assert errors == []
    assert sorted(numbers) == [f"INV-{year}-{n:06d}" for n in range(1, 51)]
    stored = list(Invoice.objects.order_by("sequence").values_list("sequence", flat=True))
    assert stored == list(range(1, 51))
    assert InvoiceSequence.objects.get(series="INV", year=year).next_value == 51


def test_a_rolled_back_issue_gives_its_number_back(organiser, package_10k, monkeypatch):
    monkeypatch.setattr(tasks.render_and_email_invoice_task, "delay", lambda **kwargs: None)
    first, second = (paid_payment(organiser, package_10k, title=f"Talk {i}") for i in range(2))

    def fail_after_numbering(*args, **kwargs):
        raise RuntimeError("crash after the number was taken")

    with monkeypatch.context() as patch:
        patch.setattr(invoicing.audit, "record", fail_after_numbering)
        with pytest.raises(RuntimeError):
            invoicing.issue_invoice(first, actor=None)
    assert not Invoice.objects.exists()
    year = timezone.now().year
    assert invoicing.issue_invoice(second, actor=None).number == f"INV-{year}-000001"
    assert invoicing.issue_invoice(first, actor=None).number == f"INV-{year}-000002"
