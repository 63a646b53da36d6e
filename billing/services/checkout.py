"""Paying for a held webinar through Stripe Checkout (services).

Stripe is called outside any database transaction, with idempotency keys derived from the
payment's own code, so a crash between "row written" and "session created" is repaired by
simply calling `start_checkout` again. Fulfilment happens only from webhooks
(`billing.services.stripe_events`), never from the success redirect.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billing import gateway
from billing.errors import BillingError
from billing.models import Payment, StripeCustomer
from billing.tax import tax_for_organisation
from webinars import audit, cancellation
from webinars.models import AuditEntry, Organisation, User, Webinar

S = Webinar.Status
STRIPE_MIN_SESSION = timedelta(minutes=30)
# Stripe counts the 30 minutes from its own clock; a little slack avoids a 400 on skew.
SESSION_SLACK = timedelta(minutes=1)


def funds_deadline_for(webinar: Webinar, now: datetime) -> datetime:
    """Bank transfers must arrive within FUNDS_DEADLINE_DAYS, and never later than the
    package's lead time before the start (staff and fleet planning need that notice)."""
    return min(
        now + timedelta(days=settings.FUNDS_DEADLINE_DAYS),
        webinar.start_at - timedelta(days=webinar.package.lead_time_days),
    )


def longest_hold(webinar: Webinar) -> datetime:
    """A hold lasts HOLD_MINUTES, stretched at most once to Stripe's 30-minute session."""
    return (
        webinar.created_at
        + timedelta(minutes=settings.HOLD_MINUTES)
        + STRIPE_MIN_SESSION
        + SESSION_SLACK
    )


def bank_transfer_available(webinar: Webinar, now: datetime) -> bool:
    return funds_deadline_for(webinar, now) >= now + timedelta(days=1)


def customer_details(organisation: Organisation) -> gateway.CustomerDetails:
    """What the organisation's Stripe Customer carries: its billing details as they are now."""
    return gateway.CustomerDetails(
        name=organisation.legal_name,
        email=organisation.billing_email,
        address={
            "line1": organisation.address_line1,
            "line2": organisation.address_line2,
            "city": organisation.city,
            "postal_code": organisation.postal_code,
            "country": organisation.country,
        },
        tax_id=gateway.tax_id_for(organisation.country, organisation.vat_id),
    )


def _ensure_customer(organisation: Organisation, *, generation: int, key: str) -> str:
    """The organisation's Stripe Customer, created on its first checkout and brought up to
    date with its billing details before every new session, so Checkout never asks for
    the address or VAT id again (see gateway.create_checkout_session)."""
    details = customer_details(organisation)
    existing = StripeCustomer.objects.filter(organisation=organisation).first()
    if existing:
        gateway.sync_customer(existing.stripe_id, details, idempotency_key=f"tax-id:{key}")
        return existing.stripe_id
    stripe_id = gateway.create_customer(
        details=details,
        metadata={"organisation": str(organisation.code)},
        idempotency_key=f"customer:{organisation.code}:{generation}",
    )
    customer, _ = StripeCustomer.objects.get_or_create(
        organisation=organisation, defaults={"stripe_id": stripe_id}
    )
    return customer.stripe_id


@transaction.atomic
def _open_payment(webinar: Webinar, *, actor: User | None, now: datetime) -> Payment:
    webinar = (
        Webinar.objects.select_for_update(no_key=True, of=("self",))
        .select_related("organisation")
        .get(pk=webinar.pk)
    )
    if (
        webinar.status != S.HELD
        or webinar.hold_expires_at is None
        or webinar.hold_expires_at <= now
    ):
        raise BillingError("not_payable")
    reusable = webinar.payments.filter(status=Payment.Status.OPEN).order_by("-attempt").first()
    if reusable and (
        reusable.expires_at is None or reusable.expires_at > now + timedelta(minutes=2)
    ):
        return reusable
    if now + STRIPE_MIN_SESSION + SESSION_SLACK > longest_hold(webinar):
        # A new session would stretch the hold again; holds end, so capacity comes back.
        raise BillingError("hold_ending")
    organisation = webinar.organisation
    sale = tax_for_organisation(organisation, webinar.price_minor)
    attempt = (
        webinar.payments.order_by("-attempt").values_list("attempt", flat=True).first() or 0
    ) + 1
    payment = Payment.objects.create(
        webinar=webinar,
        organisation=organisation,
        attempt=attempt,
        currency=webinar.currency,
        **sale.payment_fields(),
    )
    audit.record(
        "payment.checkout_started",
        payment,
        actor=actor,
        webinar=webinar,
        data={"attempt": attempt, "amount_minor": sale.gross_minor, "tax": sale.decision.treatment},
    )
    return payment


def start_checkout(webinar: Webinar, *, actor: User | None) -> Payment:
    """Open (or reuse) a Stripe Checkout Session for a held webinar; returns the payment
    whose `checkout_url` the organiser is sent to. Raises BillingError when the booking is
    not held any more, GatewayError when Stripe cannot be reached."""
    now = timezone.now()
    payment = _open_payment(webinar, actor=actor, now=now)
    if payment.checkout_session_id:
        return payment
    webinar = payment.webinar
    expires_at = max(webinar.hold_expires_at or now, now + STRIPE_MIN_SESSION + SESSION_SLACK)
    try:
        session = _create_session(payment, webinar, expires_at, now, generation=0)
    except gateway.CustomerMissingError:
        # Deleted in the dashboard (or a fresh emulator): forget it, create a new one once.
        old = StripeCustomer.objects.filter(organisation=webinar.organisation).first()
        StripeCustomer.objects.filter(organisation=webinar.organisation).delete()
        audit.record(
            "stripe_customer.replaced",
            webinar.organisation,
            actor=actor,
            data={"missing": old.stripe_id if old else ""},
        )
        generation = AuditEntry.objects.filter(
            action="stripe_customer.replaced", subject_code=str(webinar.organisation.code)
        ).count()
        session = _create_session(payment, webinar, expires_at, now, generation=generation)
    return _attach_session(payment, session, expires_at=expires_at, actor=actor)


def _create_session(
    payment: Payment, webinar: Webinar, expires_at: datetime, now: datetime, *, generation: int
) -> gateway.CheckoutSession:
    site = settings.SITE_URL
    suffix = f":{generation}" if generation else ""
    return gateway.create_checkout_session(
        customer_id=_ensure_customer(
            webinar.organisation, generation=generation, key=f"{payment.code}{suffix}"
        ),
        amount=payment.amount_minor,
        currency=payment.currency,
        product_name=f"{webinar.package.name}: {webinar.title}",
        product_description=cancellation.policy_text(webinar),
        reference=webinar.code,
        # The zone lets a hosted page show times as our pages do (the emulator's does).
        metadata={
            "booking": webinar.code,
            "payment": str(payment.code),
            "time_zone": webinar.time_zone,
        },
        expires_at=expires_at,
        success_url=site
        + reverse("billing:return", args=[webinar.code])
        + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=site + reverse("webinars:detail", args=[webinar.code]),
        bank_transfer=bank_transfer_available(webinar, now),
        idempotency_key=f"checkout:{payment.code}{suffix}",
    )


@transaction.atomic
def _attach_session(
    payment: Payment, session: gateway.CheckoutSession, *, expires_at: datetime, actor: User | None
) -> Payment:
    # Lock order everywhere in billing: webinar, then payment, then refund / invoice rows.
    webinar = Webinar.objects.select_for_update(no_key=True).get(pk=payment.webinar_id)
    payment = Payment.objects.select_for_update(no_key=True).get(pk=payment.pk)
    payment.checkout_session_id = session.id
    payment.checkout_url = session.url
    payment.expires_at = expires_at
    payment.save(update_fields=["checkout_session_id", "checkout_url", "expires_at", "updated_at"])
    # The capacity stays held for as long as Stripe lets the organiser pay (>= 30 min).
    if webinar.status == S.HELD and (webinar.hold_expires_at or expires_at) < expires_at:
        webinar.hold_expires_at = expires_at
        webinar.save(update_fields=["hold_expires_at", "updated_at"])
        audit.record(
            "webinar.hold_extended",
            webinar,
            actor=actor,
            data={"hold_expires_at": expires_at.isoformat(), "for": session.id},
        )
    return payment


def close_checkout_session(payment: Payment) -> None:
    """Close the payment's Checkout Session at Stripe if it is still open and unpaid (its
    booking was cancelled); Stripe then sends checkout.session.expired. Harmless to repeat."""
    if payment.status == Payment.Status.OPEN and payment.checkout_session_id:
        session = gateway.retrieve_checkout_session(payment.checkout_session_id)
        if session.status == "open":
            gateway.expire_checkout_session(payment.checkout_session_id)
