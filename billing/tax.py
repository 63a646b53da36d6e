"""VAT treatment of a sale and the arithmetic of net, tax and gross.

`tax_for_organisation` is the one place that taxes a sale to an organisation (with the
seller and rates of the settings): checkout snapshots it on the payment, the live quote
shows it, invoicing falls back to it for payments made before the snapshot. The rest
are pure functions.

The rules (EU VAT Directive 2006/112/EC), in the order they are tried:

1. domestic: the buyer is in the seller's country -> the seller's rate, VAT id or not;
2. export: the buyer is outside the EU -> 0 %, "Outside the scope of EU VAT" (B2B place
   of supply is the customer's country, Art. 44);
3. reverse charge: an EU buyer in another member state with a VAT id of valid *format*
   (checksum included) for that member state -> 0 %, the buyer accounts for the VAT
   (Art. 196) and the invoice says "Reverse charge";
4. EU consumer: an EU buyer in another member state without a valid VAT id -> treated
   as a consumer and charged the seller's rate.

Known limitation of rule 4: since 1 January 2025, B2C admission to *live virtual events*
(Directive 2022/542) and B2C electronic services are taxed where the customer is, at
that member state's rate, declared through the One-Stop-Shop. OSS is not implemented;
finance must handle such (rare: our buyers are organisations) sales by hand. Only the
format of a VAT id is checked (`webinars.countries.is_valid_vat_id`); a VIES lookup of
whether it is *registered* is not done.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings

from webinars.countries import EU_MEMBER_STATES, is_valid_vat_id
from webinars.models import Organisation

DOMESTIC = "domestic"
REVERSE_CHARGE = "reverse_charge"
EU_CONSUMER = "eu_consumer"
EXPORT = "export"

REVERSE_CHARGE_NOTE = "Reverse charge (VAT reverse charge, Art. 196 Directive 2006/112/EC)"
EXPORT_NOTE = "Outside the scope of EU VAT"
NOTES = {REVERSE_CHARGE: REVERSE_CHARGE_NOTE, EXPORT: EXPORT_NOTE}


@dataclass(frozen=True)
class TaxDecision:
    treatment: str
    rate_bp: int
    note: str


def determine_tax(
    *,
    seller_country: str,
    buyer_country: str,
    buyer_vat_id: str,
    vat_rates: Mapping[str, int],
) -> TaxDecision:
    """Decide the VAT treatment and rate (basis points) of one sale; see the module
    docstring for the rules. Raises ValueError when the seller's rate is not configured."""
    seller_country = seller_country.upper()
    buyer_country = buyer_country.upper()
    if seller_country not in vat_rates:
        raise ValueError(f"No VAT rate configured for the seller's country {seller_country}.")
    seller_rate = int(vat_rates[seller_country])
    if buyer_country == seller_country:
        return TaxDecision(DOMESTIC, seller_rate, "")
    if buyer_country not in EU_MEMBER_STATES:
        return TaxDecision(EXPORT, 0, EXPORT_NOTE)
    if is_valid_vat_id(buyer_vat_id, buyer_country):
        return TaxDecision(REVERSE_CHARGE, 0, REVERSE_CHARGE_NOTE)
    return TaxDecision(EU_CONSUMER, seller_rate, "")


@dataclass(frozen=True)
class TaxedSale:
    """A net price taxed for one buyer: the decision and the amounts it gives."""

    decision: TaxDecision
    net_minor: int
    tax_minor: int
    gross_minor: int

    def payment_fields(self) -> dict[str, int | str]:
        """What a payment snapshots of the sale at checkout (its amount and tax fields)."""
        return {
            "net_minor": self.net_minor,
            "tax_minor": self.tax_minor,
            "amount_minor": self.gross_minor,
            "tax_treatment": self.decision.treatment,
            "tax_rate_bp": self.decision.rate_bp,
        }


def tax_for_organisation(organisation: Organisation, net_minor: int) -> TaxedSale:
    """A sale of `net_minor` by us (settings.SELLER, settings.VAT_RATES) to
    `organisation` as its billing details are now: treatment, rate, net, VAT, gross."""
    decision = determine_tax(
        seller_country=settings.SELLER["country"],
        buyer_country=organisation.country,
        buyer_vat_id=organisation.vat_id,
        vat_rates=settings.VAT_RATES,
    )
    return TaxedSale(decision, *compute_amounts(net_minor, decision.rate_bp))


def tax_note(treatment: str) -> str:
    """The mention an invoice must carry for a treatment (Art. 226 points 11 and 11a)."""
    return NOTES.get(treatment, "")


def _div_round_half_up(numerator: int, denominator: int) -> int:
    # Integer arithmetic only: floats misround cents (e.g. 1.005). Half-up away from zero,
    # so a credit note rounds like the invoice it mirrors.
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    quotient, remainder = divmod(abs(numerator), abs(denominator))
    if 2 * remainder >= abs(denominator):
        quotient += 1
    return sign * quotient


def compute_amounts(net_minor: int, rate_bp: int) -> tuple[int, int, int]:
    """(net, tax, gross) in minor units for a net amount at `rate_bp` basis points,
    the tax rounded half-up to the cent."""
    tax = _div_round_half_up(net_minor * rate_bp, 10_000)
    return net_minor, tax, net_minor + tax


def split_gross(gross_minor: int, rate_bp: int) -> tuple[int, int, int]:
    """(net, tax, gross) for a gross amount that includes VAT at `rate_bp` (used for
    refunds, which are gross). For a gross made by `compute_amounts` it returns the
    same net: |rounding error| / (1 + rate) stays below half a cent."""
    net = _div_round_half_up(gross_minor * 10_000, 10_000 + rate_bp)
    return net, gross_minor - net, gross_minor
