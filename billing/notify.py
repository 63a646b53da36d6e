"""Emails that tell people what billing did: organisers (late payment refunded, transfer
failed, cancellation) and staff (refund failed, dispute opened). One generic template,
`emails/notice-*`, keeps them consistent."""

from django.conf import settings
from django.urls import reverse

from billing.emails import make_message
from billing.models import Dispute, Payment, Refund
from webinars.formatting import format_in_zone, format_money
from webinars.models import Webinar


def _starts(webinar: Webinar) -> str:
    return format_in_zone(webinar.start_at, webinar.time_zone)


def _send(to: list[str], subject: str, lines: list[str], webinar: Webinar | None = None) -> None:
    link = (settings.SITE_URL + reverse("webinars:detail", args=[webinar.code])) if webinar else ""
    make_message("notice", to, {"subject": subject, "lines": lines, "link": link}).send()


def cancellation(webinar: Webinar, *, quote_amount: int, currency: str) -> None:
    refund = (
        f"We are refunding {format_money(quote_amount, currency)} to the original "
        "payment method; a credit note follows once the refund completes."
        if quote_amount
        else "No refund is due under the cancellation policy."
    )
    _send(
        [webinar.organisation.billing_email],
        f"Booking {webinar.code} cancelled",
        [
            f'Your webinar "{webinar.title}" ({webinar.code}) on {_starts(webinar)} is cancelled.',
            refund,
        ],
        webinar,
    )


def late_payment_refunded(payment: Payment) -> None:
    webinar = payment.webinar
    _send(
        [webinar.organisation.billing_email],
        f"Payment for {webinar.code} refunded: the capacity was no longer available",
        [
            f"Your payment of {format_money(payment.amount_minor, payment.currency)} for "
            f'"{webinar.title}" on {_starts(webinar)} arrived after the capacity hold had '
            "expired, and the time slot has since been booked.",
            "We are refunding the full amount automatically. Our team will contact you to "
            "find another time.",
        ],
        webinar,
    )


def bank_transfer_failed(payment: Payment) -> None:
    webinar = payment.webinar
    _send(
        [webinar.organisation.billing_email],
        f"Bank transfer for {webinar.code} failed",
        [
            f'The bank transfer for your webinar "{webinar.title}" on {_starts(webinar)} did '
            "not arrive or was returned, so the capacity hold has been released.",
            "You can book again at any time.",
        ],
        webinar,
    )


def refund_failed(refund: Refund) -> None:
    webinar = refund.payment.webinar
    _send(
        [settings.FINANCE_EMAIL],
        f"Refund FAILED for {webinar.code}",
        [
            f"Stripe refund {refund.stripe_id} of "
            f"{format_money(refund.amount_minor, refund.currency)} failed: "
            f"{refund.failure_reason or 'no reason given'}.",
            "Top up the Stripe balance or refund by hand, then record it in the admin.",
        ],
        webinar,
    )


def dispute_opened(dispute: Dispute) -> None:
    webinar = dispute.payment.webinar
    _send(
        [settings.FINANCE_EMAIL, settings.EVENT_SERVICES_EMAIL],
        f"Dispute opened on {webinar.code}",
        [
            f"The organiser's bank disputed {format_money(dispute.amount_minor, dispute.currency)} "
            f"(reason: {dispute.reason or 'not given'}, Stripe {dispute.stripe_id}).",
            "The booking is flagged; respond in the Stripe dashboard before the deadline.",
        ],
        webinar,
    )


def funds_deadline_missed(webinar: Webinar) -> None:
    when = format_in_zone(webinar.funds_deadline, webinar.time_zone)
    deadline = f" ({when})" if when else ""
    _send(
        [webinar.organisation.billing_email],
        f"Bank transfer for {webinar.code} not received in time",
        [
            f"We did not receive your bank transfer by the funds deadline{deadline}, so the "
            f'capacity held for your webinar "{webinar.title}" on {_starts(webinar)} has been '
            "released.",
            "If the money is already on its way, we confirm the booking when it arrives "
            "if the time is still free, and refund it in full otherwise.",
        ],
        webinar,
    )


def refund_stuck(refund: Refund) -> None:
    webinar = refund.payment.webinar
    _send(
        [settings.FINANCE_EMAIL],
        f"Refund for {webinar.code} has not reached Stripe",
        [
            f"The refund of {format_money(refund.amount_minor, refund.currency)} requested on "
            f"{format_in_zone(refund.created_at, webinar.time_zone)} is still not accepted by "
            "Stripe.",
            "It is retried every 10 minutes; check the Stripe status and the worker logs.",
        ],
        webinar,
    )


def transfer_instructions(payment: Payment) -> None:
    """The organiser chose a bank transfer: say by when it must arrive (the funds deadline,
    ours, which Stripe's own instructions do not mention) and what happens if it is late."""
    webinar = Webinar.objects.select_related("organisation").get(pk=payment.webinar_id)
    if webinar.funds_deadline is None:
        return
    deadline = format_in_zone(webinar.funds_deadline, webinar.time_zone)
    _send(
        [webinar.organisation.billing_email],
        f"Bank transfer for {webinar.code}: it must arrive by {deadline}",
        [
            f'We hold the capacity for your webinar "{webinar.title}" on {_starts(webinar)} '
            "until your bank transfer arrives.",
            f"Send {format_money(payment.amount_minor, payment.currency)} so that it arrives "
            f"by {deadline}, to the bank details and with the reference shown on the "
            "payment page (linked from your booking). We confirm the booking as soon as it "
            "arrives.",
            "A transfer that arrives later confirms the booking only if the time is still "
            "free; otherwise it is refunded in full.",
        ],
        webinar,
    )
