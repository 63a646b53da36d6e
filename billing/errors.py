"""Domain errors of billing, in the one style of webinars.errors: a code, its parameters
and a translatable message from the table below. Views answer them with the message and
`http_status` (409 unless the table below says otherwise)."""

from django.utils.translation import gettext_lazy as _

from webinars.errors import DomainError, TransientError

error_messages = {
    # Paying and cancelling (shown to organisers).
    "not_payable": _("This booking is no longer held; book again to pay."),
    "hold_ending": _("Your hold is about to end and cannot be extended; book again to pay."),
    "not_cancellable": _("A {status} booking cannot be cancelled."),
    "refund_amount": _("The refund exceeds what is left to refund."),
    # Stripe's events (recorded on the event, shown to staff in the admin).
    "bad_event": _("A {type} event needs its object's id."),
    "unknown_session": _("No payment for checkout session {session}."),
    "unknown_refund": _("No payment matches refund {refund}."),
    "unknown_charge": _("No payment for disputed charge {charge}."),
    # Invoices and credit notes (shown to finance in the admin).
    "not_paid": _("Only a paid payment can be invoiced."),
    "late_payment": _("A late or duplicate payment is refunded, not invoiced."),
    "tax_mismatch": _("The payment's VAT does not match its treatment."),
    "tax_sum_mismatch": _("The payment's net and VAT do not add up to its amount."),
    "refund_not_made": _("Only a refund that succeeded is credited."),
    "not_invoiced": _("A late payment was never invoiced; nothing to credit."),
    "currency_mismatch": _("The refund's currency differs from the invoice's."),
    "credit_exceeds_invoice": _("{number} has {left} left to credit, not {amount}."),
    "not_issued": _("A draft is neither rendered nor sent."),
    # The gateway (reason: what Stripe said).
    "gateway": _("Stripe: {reason}"),
    "gateway_not_configured": _("Stripe is not configured (STRIPE_SECRET_KEY is empty)."),
    "customer_missing": _("Stripe no longer has customer {customer}: {reason}"),
    # Webhook bodies refused before anything is stored (answered to Stripe).
    "webhook_secret_missing": _("STRIPE_WEBHOOK_SECRET is not configured."),
    "bad_signature": _("Invalid signature: {reason}"),
    "signature_out_of_tolerance": _("Invalid signature: timestamp outside the tolerance zone."),
    "signature_without_timestamp": _("Invalid signature: no timestamp."),
    "not_json": _("The body is not JSON."),
    "not_an_event": _("The body is not a Stripe event: {reason}."),
}


class BillingError(DomainError):
    """A billing rule was broken (`code` names it); most are conflicts with the current
    state (409), a few are bad input (400)."""

    messages = error_messages
    statuses = dict.fromkeys(("refund_amount", "bad_event"), 400)
    default_status = 409


class GatewayError(BillingError):
    """Stripe (or the emulator) refused the request or could not be reached."""

    default_status = 502

    def __init__(self, code: str = "gateway", **params: object) -> None:
        super().__init__(code, **params)


class GatewayUnavailable(GatewayError, TransientError):
    """Stripe could not be reached, or rate-limited us: tasks retry it with backoff."""
