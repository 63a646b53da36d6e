"""What "paid" and "cancellable" mean is said once, on the models (`Payment.PAID_STATUSES`,
`Payment.REFUNDABLE_STATUSES`, `Webinar.CANCELLABLE_STATUSES`), and every place that asks
answers the same: invoicing, revenue, refunds, the one-payment constraint, the Payment
panel and the cancel service."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from billing import selectors
from billing.errors import BillingError
from billing.models import Payment
from billing.services import cancellation, invoicing
from tests.conftest import hold
from webinars.models import Webinar


def _payment(webinar: Webinar, status: str, attempt: int = 1) -> Payment:
    return Payment.objects.create(
        webinar=webinar,
        organisation=webinar.organisation,
        attempt=attempt,
        currency="USD",
        net_minor=900_000,
        amount_minor=900_000,
        status=status,
        paid_at=timezone.now(),
    )


@pytest.mark.parametrize("status", list(Payment.Status))
def test_a_payment_counts_as_paid_exactly_in_the_paid_states(organiser, package_10k, status):
    webinar = hold(organiser, package_10k)
    payment = _payment(webinar, status)
    paid = status in Payment.PAID_STATUSES
    today = timezone.now().date()
    collected = selectors.revenue_for_period(today, today).get("USD", {}).get("collected", 0)
    assert collected == (900_000 if paid else 0)
    assert (selectors.paid_payment(webinar) == payment) == (status in Payment.REFUNDABLE_STATUSES)
    if paid:
        assert invoicing.issue_invoice(payment, actor=None).gross_minor == 900_000
        with pytest.raises(IntegrityError), transaction.atomic():
            _payment(webinar, Payment.Status.SUCCEEDED, attempt=2)  # a webinar is paid once
    else:
        with pytest.raises(BillingError) as refused:
            invoicing.issue_invoice(payment, actor=None)
        assert refused.value.code == "not_paid"
        _payment(webinar, Payment.Status.SUCCEEDED, attempt=2)


@pytest.mark.parametrize("status", list(Webinar.Status))
def test_cancel_is_offered_and_done_exactly_in_the_cancellable_states(
    client, organiser, package_10k, status
):
    webinar = hold(organiser, package_10k)
    Webinar.objects.filter(pk=webinar.pk).update(status=status)
    webinar.refresh_from_db()
    client.force_login(organiser)
    panel = client.get(reverse("billing:panel", args=[webinar.code])).content.decode()
    cancellable = status in Webinar.CANCELLABLE_STATUSES
    assert ("Cancel booking" in panel) == cancellable
    if cancellable:
        cancelled, _refund = cancellation.cancel_webinar(webinar, actor=organiser)
        assert cancelled.status == Webinar.Status.CANCELLED
    else:
        with pytest.raises(BillingError) as refused:
            cancellation.cancel_webinar(webinar, actor=organiser)
        assert refused.value.code == "not_cancellable"
        webinar.refresh_from_db()
        assert webinar.status == status
