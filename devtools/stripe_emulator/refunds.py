"""Refunds and disputes for the local Stripe emulator.

localstripe creates refunds but emits no refund or charge events, rejects Stripe parameters
such as `reason`, lets refunds exceed the charge and has no disputes. POST /v1/refunds is
therefore served here (localstripe's Refund class still does the bookkeeping).
"""

from __future__ import annotations

from typing import Any

from localstripe.resources import Refund, StripeObject, store

from devtools.stripe_emulator.common import emit, format_amount, invalid, missing, now, pop_expand

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
REFUND_FAILURE_REASONS = (
    "lost_or_stolen_card",
    "expired_or_canceled_card",
    "charge_for_pending_refund_disputed",
    "insufficient_funds",
    "declined",
    "merchant_request",
    "unknown",
)
DISPUTE_REASONS = (
    "bank_cannot_process",
    "check_returned",
    "credit_not_processed",
    "customer_initiated",
    "debit_not_authorized",
    "duplicate",
    "fraudulent",
    "general",
    "incorrect_account_details",
    "insufficient_funds",
    "product_not_received",
    "product_unacceptable",
    "subscription_canceled",
    "unrecognized",
)


class Dispute(StripeObject):
    object = "dispute"
    _id_prefix = "dp_"

    def __init__(self, charge: Any, amount: int, reason: str) -> None:
        super().__init__()
        self.amount = amount
        self.currency = charge.currency
        self.charge = charge.id
        self.payment_intent = charge.payment_intent
        self.reason = reason
        self.status = "needs_response"
        self.metadata: dict[str, str] = {}
        self.evidence: dict[str, Any] = {}
        self.evidence_details = {
            "due_by": now() + 7 * 24 * 3600,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        }
        self.is_charge_refundable = False
        self.balance_transactions: list[Any] = []


def _charge(charge_id: str, param: str = "charge") -> Any:
    charge = store.get(f"charge:{charge_id}")
    if charge is None:
        raise missing("charge", charge_id, param=param)
    return charge


def _payment_intent(pi_id: str, param: str = "payment_intent") -> Any:
    pi = store.get(f"payment_intent:{pi_id}")
    if pi is None:
        raise missing("payment_intent", pi_id, param=param)
    return pi


def _succeeded_charge_of(pi: Any) -> Any:
    charge = pi.latest_charge
    if charge is None or charge.status != "succeeded":
        raise invalid(
            f"This PaymentIntent ({pi.id}) does not have a successful charge to refund.",
            param="payment_intent",
            code="charge_not_refundable",
        )
    return charge


def create_refund(params: dict[str, Any]) -> dict[str, Any]:
    expand = pop_expand(params)
    charge_id = params.get("charge") or None
    pi_id = params.get("payment_intent") or None
    if charge_id and pi_id:
        raise invalid(
            "You may only specify one of these parameters: charge, payment_intent.",
            param="payment_intent",
        )
    if pi_id:
        charge = _succeeded_charge_of(_payment_intent(pi_id))
    elif charge_id:
        charge = _charge(charge_id)
    else:
        raise invalid(
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
            param="charge",
            code="parameter_missing",
        )
    if charge.status != "succeeded":
        raise invalid(
            "Cannot refund a failed payment.", param="charge", code="charge_not_refundable"
        )

    remaining = charge.amount - charge.amount_refunded
    if remaining <= 0:
        raise invalid(
            f"Charge {charge.id} has already been refunded.", code="charge_already_refunded"
        )
    amount = params.get("amount")
    if amount in (None, ""):
        amount = remaining
    else:
        try:
            amount = int(amount)
        except (TypeError, ValueError):
            raise invalid(f"Invalid integer: {amount}", param="amount") from None
        if amount <= 0:
            raise invalid("Amount must be a positive integer.", param="amount")
        if amount > remaining:
            raise invalid(
                f"Refund amount ({format_amount(amount, charge.currency)}) is greater than "
                f"unrefunded amount on charge ({format_amount(remaining, charge.currency)})",
                param="amount",
                code="amount_too_large",
            )
    reason = params.get("reason") or None
    if reason is not None and reason not in REFUND_REASONS:
        raise invalid(f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}", param="reason")
    details = getattr(charge, "payment_method_details", None) or {}
    if details.get("type") == "customer_balance":
        customer = store.get(f"customer:{charge.customer}") if charge.customer else None
        if not getattr(customer, "email", None) and not params.get("instructions_email"):
            # Stripe emails bank-transfer buyers for their account details.
            raise invalid(
                "Refunding a bank transfer requires the customer to have an email "
                "address (or `instructions_email`).",
                param="instructions_email",
            )

    metadata = params.get("metadata") if isinstance(params.get("metadata"), dict) else {}
    refund = Refund(charge=charge.id, amount=amount, metadata=metadata)
    refund.payment_intent = charge.payment_intent
    refund.reason = reason
    refund.failure_reason = None
    refund.instructions_email = params.get("instructions_email") or None
    refund.description = None
    emit("refund.created", refund)
    emit("charge.refunded", charge)
    return refund._export(expand=expand)


def retrieve_refund(refund_id: str) -> Any:
    refund = store.get(f"refund:{refund_id}")
    if refund is None:
        raise missing("refund", refund_id)
    return refund


def fail_refund(refund_id: str, failure_reason: str | None) -> Any:
    refund = retrieve_refund(refund_id)
    reason = failure_reason or "insufficient_funds"
    if reason not in REFUND_FAILURE_REASONS:
        raise invalid(
            f"failure_reason must be one of {', '.join(REFUND_FAILURE_REASONS)}",
            param="failure_reason",
        )
    if refund.status not in ("pending", "succeeded"):
        raise invalid(
            f"Refund {refund.id} has status {refund.status} and cannot fail.",
            code="refund_not_failable",
        )
    refund.status = "failed"
    refund.failure_reason = reason
    emit("refund.failed", refund)
    emit("refund.updated", refund)
    return refund


def dispute_charge(charge_id: str, reason: str | None, amount: Any) -> Dispute:
    charge = _charge(charge_id, param="id")
    if charge.status != "succeeded":
        raise invalid("Only a successful charge can be disputed.", code="charge_not_disputable")
    reason = reason or "fraudulent"
    if reason not in DISPUTE_REASONS:
        raise invalid(f"Invalid dispute reason: {reason}", param="reason")
    try:
        disputed_amount = charge.amount if amount in (None, "") else int(amount)
    except (TypeError, ValueError):
        raise invalid(f"Invalid integer: {amount}", param="amount") from None
    if not 0 < disputed_amount <= charge.amount:
        raise invalid("Dispute amount must be between 1 and the charge amount.", param="amount")
    dispute = Dispute(charge, disputed_amount, reason)
    charge.disputed = True
    emit("charge.dispute.created", dispute)
    return dispute


def dispute_payment_intent(pi_id: str, reason: str | None, amount: Any) -> Dispute:
    pi = _payment_intent(pi_id, param="id")
    if pi.latest_charge is None:
        raise invalid(
            f"PaymentIntent {pi.id} has no charge to dispute.", code="charge_not_disputable"
        )
    return dispute_charge(pi.latest_charge.id, reason, amount)
