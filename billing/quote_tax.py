"""VAT lines of the live quote: the decision Checkout will make for the organisation
(`billing.tax.tax_for_organisation`), applied to the quoted net price. Registered into
`webinars.tax_estimates` by `BillingConfig.ready()`."""

from billing.tax import EXPORT, REVERSE_CHARGE, tax_for_organisation
from webinars.formatting import format_percent
from webinars.models import Organisation
from webinars.tax_estimates import TaxEstimate

LABELS = {REVERSE_CHARGE: "Reverse charge", EXPORT: "No VAT (export)"}


def estimate_for_quote(organisation: Organisation, net_minor: int, currency: str) -> TaxEstimate:
    sale = tax_for_organisation(organisation, net_minor)
    decision = sale.decision
    return TaxEstimate(
        label=LABELS.get(decision.treatment, f"VAT {format_percent(decision.rate_bp)}"),
        net_minor=sale.net_minor,
        tax_minor=sale.tax_minor,
        gross_minor=sale.gross_minor,
        currency=currency,
        note=decision.note,
    )
