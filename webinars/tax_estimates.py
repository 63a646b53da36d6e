"""Extension point for the VAT lines of the live quote.

The VAT rules belong to billing (`billing.tax`), and `webinars` must not import billing. So
billing registers an estimator here from `BillingConfig.ready()`, as it registers the
Payment panel in `webinars.panels`; the quote asks `estimate()` and shows what comes back.
Without an estimator, or for a visitor without an organisation, the quote is net
("excl. VAT"): who the buyer is decides the treatment.
"""

from collections.abc import Callable
from dataclasses import dataclass

from webinars.models import Organisation


@dataclass(frozen=True)
class TaxEstimate:
    """What the organisation would pay: `label` names the VAT line ("VAT 23%",
    "Reverse charge", "No VAT (export)"), `note` is the mention the invoice will carry."""

    label: str
    net_minor: int
    tax_minor: int
    gross_minor: int
    currency: str
    note: str = ""


Estimator = Callable[[Organisation, int, str], TaxEstimate]
ESTIMATORS: list[Estimator] = []


def register(estimator: Estimator) -> Estimator:
    if estimator not in ESTIMATORS:
        ESTIMATORS.append(estimator)
    return estimator


def estimate(
    organisation: Organisation | None, net_minor: int, currency: str
) -> TaxEstimate | None:
    """The VAT treatment of a net price for `organisation`; None when it cannot be told."""
    if organisation is None or not ESTIMATORS:
        return None
    # One app decides VAT; if several registered, the last one (the latest ready()) wins.
    return ESTIMATORS[-1](organisation, net_minor, currency)
