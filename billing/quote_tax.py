"""VAT lines of the live quote: the decision Checkout will make for the organisation
(`billing.tax.determine_tax`), applied to the quoted net price. Registered into
`webinars.tax_estimates` by `BillingConfig.ready()`."""

from django.conf import settings

from billing.tax import EXPORT, REVERSE_CHARGE, compute_amounts, determine_tax
from webinars.models import Organisation
from webinars.tax_estimates import TaxEstimate

LABELS = {REVERSE_CHARGE: "Reverse charge", EXPORT: "No VAT (export)"}


def estimate_for_quote(organisation: Organisation, net_minor: int, currency: str) -> TaxEstimate:
    decision = determine_tax(
        seller_country=settings.SELLER["country"],
        buyer_country=organisation.country,
        buyer_vat_id=organisation.vat_id,
        vat_rates=settings.VAT_RATES,
    )
    net, tax, gross = compute_amounts(net_minor, decision.rate_bp)
    whole, hundredths = divmod(decision.rate_bp, 100)
    rate = f"{whole}%" if not hundredths else f"{whole}.{hundredths:02d}".rstrip("0") + "%"
    return TaxEstimate(
        label=LABELS.get(decision.treatment, f"VAT {rate}"),
        net_minor=net,
        tax_minor=tax,
        gross_minor=gross,
        currency=currency,
        note=decision.note,
    )
