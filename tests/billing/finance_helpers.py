"""Builders for finance tests: paid payments made through the booking services, refunds,
and a private media folder for PDFs. Imported by the finance test modules (not a
conftest, so the checkout/webhook tests in this folder are unaffected)."""

import pytest
from django.utils import timezone

from billing.models import Payment, Refund
from billing.tax import tax_for_organisation
from tests.conftest import hold, make_organiser
from webinars import services
from webinars.models import Package, User


@pytest.fixture
def tmp_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def organiser_in(country: str, name: str, *, vat_id: str = "", po_number: str = "") -> User:
    slug = name.split()[0].lower()
    user = make_organiser(f"{slug}@{country.lower()}.example", name, country=country)
    if vat_id or po_number:
        services.update_organisation(
            user.membership.organisation, actor=user, vat_id=vat_id, po_number=po_number
        )
    return User.objects.get(pk=user.pk)


def paid_payment(user: User, package: Package, **hold_overrides) -> Payment:
    """A confirmed webinar and its succeeded payment, taxed as checkout would tax it."""
    webinar = services.confirm_booking(hold(user, package, **hold_overrides), actor=None)
    organisation = user.membership.organisation
    sale = tax_for_organisation(organisation, webinar.price_minor)
    attempt = Payment.objects.filter(webinar=webinar).count() + 1
    return Payment.objects.create(
        webinar=webinar,
        organisation=organisation,
        attempt=attempt,
        status=Payment.Status.SUCCEEDED,
        method=Payment.Method.CARD,
        currency=webinar.currency,
        **sale.payment_fields(),
        payment_intent_id=f"pi_{webinar.code}",
        paid_at=timezone.now(),
    )


def made_refund(
    payment: Payment, amount_minor: int, *, status: str = Refund.Status.SUCCEEDED
) -> Refund:
    refund = Refund.objects.create(
        payment=payment,
        amount_minor=amount_minor,
        currency=payment.currency,
        status=status,
        reason=Refund.Reason.CANCELLATION,
    )
    Payment.objects.filter(pk=payment.pk).update(
        refunded_minor=payment.refunded_minor + amount_minor,
        status=(
            Payment.Status.REFUNDED
            if amount_minor == payment.refundable_minor
            else Payment.Status.PARTIALLY_REFUNDED
        ),
    )
    return refund
