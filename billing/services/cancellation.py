"""Cancelling a booking (service): the refund the cancellation policy gives, the booking
released, the refund requested, and Checkout Sessions still open expired at Stripe.

The policy's percentage has one home, `webinars.cancellation`; this module applies it to
what was paid (`refund_quote`), or refunds everything when Event Services cancel.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from billing import notify
from billing.errors import BillingError
from billing.models import Refund
from billing.selectors import in_flight_minor, open_checkout_ids, paid_payment
from billing.services.refunds import request_refund
from webinars import cancellation
from webinars import services as webinar_services
from webinars.jobs import enqueue_on_commit
from webinars.models import User, Webinar


@dataclass(frozen=True)
class RefundQuote:
    percent: int
    amount_minor: int
    currency: str
    reason: str


def refund_quote(webinar: Webinar, *, now: datetime | None = None) -> RefundQuote:
    """What cancelling now would refund: the cancellation policy's percentage
    (`webinars.cancellation`, its one home) of the gross paid, capped by what is still
    refundable."""
    now = now or timezone.now()
    payment = paid_payment(webinar)
    currency = payment.currency if payment else webinar.currency
    if payment is None:
        return RefundQuote(0, 0, currency, "Nothing has been paid, so nothing is refunded.")
    term = cancellation.refund_term(webinar, now=now)
    amount = min(
        payment.amount_minor * term.percent // 100,
        payment.amount_minor - in_flight_minor(payment),
    )
    return RefundQuote(term.percent, max(amount, 0), currency, term.reason)


def _staff_quote(webinar: Webinar) -> RefundQuote:
    payment = paid_payment(webinar)
    if payment is None:
        return RefundQuote(0, 0, webinar.currency, "Nothing has been paid.")
    amount = payment.amount_minor - in_flight_minor(payment)
    return RefundQuote(100, amount, payment.currency, "Cancelled by us: full refund.")


def cancel_webinar(
    webinar: Webinar, *, actor: User | None, by_staff: bool = False
) -> tuple[Webinar, Refund | None]:
    """Cancel a booking: release the capacity, refund and (when the refund succeeds) issue
    a credit note. The organiser gets the cancellation policy's amount; when Event Services
    cancel (`by_staff`), everything still refundable goes back. Unpaid checkouts are
    expired at Stripe."""
    with transaction.atomic():
        locked = Webinar.objects.select_for_update(no_key=True).get(pk=webinar.pk)
        if locked.status not in Webinar.CANCELLABLE_STATUSES:
            raise BillingError("not_cancellable", status=locked.get_status_display().lower())
        quote = _staff_quote(locked) if by_staff else refund_quote(locked)
        who = "Event Services" if by_staff else "organiser"
        webinar = webinar_services.cancel_booking(
            locked, actor=actor, reason=f"{who}: {quote.reason}"
        )
        refund = None
        payment = paid_payment(webinar)
        if payment and quote.amount_minor > 0:
            refund = request_refund(
                payment,
                amount_minor=quote.amount_minor,
                reason=Refund.Reason.STAFF if by_staff else Refund.Reason.CANCELLATION,
                actor=actor,
            )
        open_sessions = open_checkout_ids(webinar)
    for payment_id in open_sessions:
        enqueue_on_commit("billing.tasks.expire_checkout_task", payment_id=payment_id)
    notify.cancellation(webinar, quote_amount=quote.amount_minor, currency=quote.currency)
    return webinar, refund
