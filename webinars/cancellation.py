"""The cancellation policy: how much of the price an organiser gets back, by how many days
before the start they cancel (setting `CANCELLATION_POLICY`, a list of
`{"min_days": int, "percent": int}`).

This module is the policy's one home. It lives in `webinars`, not in `billing`, because it
is a term of the booking that must be shown before any payment exists: the pricing page and
the live quote render it here, and `webinars` may not import `billing`. Billing reads it
from here: the refund preview and the refund itself take their percentage from
`refund_term`, and the Payment panel, the cancel page and the Stripe Checkout line item
show `policy_lines` / `policy_text`.

A booking keeps the policy it was sold under: the hold copies the tiers onto the webinar
(`Webinar.cancellation_policy`), and everything about that booking (Checkout line item,
Payment panel, cancel page, refund) reads that copy, so changing `CANCELLATION_POLICY`
later only changes the terms of new bookings.

The rule: the tier with the largest `min_days` that the time left before the start reaches
gives the percentage; below the smallest tier, or once provisioning has started (the
webinar's occupancy window, warm-up included, has begun), nothing is refunded.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from webinars.models import Webinar

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Tier:
    min_days: int
    percent: int


@dataclass(frozen=True)
class RefundTerm:
    """What the policy grants at one moment: the percentage and why, in words."""

    percent: int
    reason: str


def current_policy() -> list[dict[str, int]]:
    """The configured policy, as a new hold copies it onto its webinar."""
    return [
        {"min_days": int(rule["min_days"]), "percent": int(rule["percent"])}
        for rule in settings.CANCELLATION_POLICY
    ]


def tiers(webinar: Webinar | None = None) -> list[Tier]:
    """The tiers of `webinar`'s own policy (of the configured one for a new booking, or a
    booking made before bookings kept their policy), largest `min_days` first."""
    rules = webinar.cancellation_policy if webinar and webinar.cancellation_policy else None
    return sorted(
        (
            Tier(int(rule["min_days"]), int(rule["percent"]))
            for rule in (rules if rules is not None else current_policy())
        ),
        key=lambda tier: -tier.min_days,
    )


def refund_term(webinar: Webinar, *, now: datetime) -> RefundTerm:
    """The percentage of the price that cancelling `webinar` at `now` refunds."""
    if now >= webinar.occupied_from:
        return RefundTerm(0, "Provisioning of your relay cluster has started.")
    days_left = (webinar.start_at - now).total_seconds() / SECONDS_PER_DAY
    configured = tiers(webinar)
    for tier in configured:
        if days_left >= tier.min_days:
            return RefundTerm(
                tier.percent, f"{tier.percent}% refund: {tier.min_days}+ days before start."
            )
    if not configured:
        return RefundTerm(0, "Cancellations are not refunded.")
    return RefundTerm(0, f"No refund less than {configured[-1].min_days} days before the start.")


def policy_lines(webinar: Webinar | None = None) -> list[str]:
    """The policy in words (`webinar`'s own, else the configured one), one line per tier
    plus the no-refund line, for every page and the Checkout line item (so they can never
    disagree)."""
    configured = tiers(webinar)
    lines: list[str] = []
    previous: Tier | None = None
    for tier in configured:
        if previous is None:
            when = f"{tier.min_days}+ days before the start"
        else:
            when = f"{tier.min_days} to {previous.min_days} days before the start"
        lines.append(f"{tier.percent}% refund when cancelled {when}")
        previous = tier
    provisioning = "once provisioning of your relay cluster has begun"
    if previous is None:
        lines.append("no refund when cancelled")
    elif previous.min_days > 0:
        lines.append(
            f"no refund less than {previous.min_days} days before the start, or {provisioning}"
        )
    else:
        lines.append(f"no refund {provisioning}")
    return lines


def policy_text(webinar: Webinar | None = None) -> str:
    """The policy as one sentence, where there is no room for a list."""
    return "Cancellation policy: " + "; ".join(policy_lines(webinar)) + "."
