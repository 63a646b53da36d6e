"""VAT treatment rules and the arithmetic of net, tax and gross (pure, no database)."""

import pytest

from billing.tax import (
    EXPORT_NOTE,
    REVERSE_CHARGE_NOTE,
    TaxDecision,
    compute_amounts,
    determine_tax,
    split_gross,
    tax_for_organisation,
)
from webinars.models import Organisation

RATES = {"IE": 2300, "DE": 1900, "FR": 2000, "GR": 2400}


def decide(buyer_country: str, vat_id: str = "", *, seller: str = "IE", rates=None):
    return determine_tax(
        seller_country=seller,
        buyer_country=buyer_country,
        buyer_vat_id=vat_id,
        vat_rates=rates or RATES,
    )


def test_domestic_buyer_pays_the_seller_rate_with_or_without_vat_id():
    assert decide("IE") == TaxDecision("domestic", 2300, "")
    assert decide("ie", "IE6388047V") == TaxDecision("domestic", 2300, "")


def test_eu_business_with_valid_vat_id_is_reverse_charged():
    decision = decide("DE", "DE136695976")
    assert decision.treatment == "reverse_charge" and decision.rate_bp == 0
    assert decision.note == REVERSE_CHARGE_NOTE
    assert "Reverse charge" in decision.note
    assert "Art. 196 Directive 2006/112/EC" in decision.note


@pytest.mark.parametrize(
    "country, vat_id",
    [
        ("DE", "136695976"),  # prefix omitted
        ("DE", "de 136 695 976"),  # spaces and lower case
        ("GR", "EL094259216"),  # Greece uses EL
        ("GR", "094259216"),
        ("NL", "NL004495445B01"),
    ],
)
def test_vat_id_formats_accepted_for_reverse_charge(country, vat_id):
    assert decide(country, vat_id).treatment == "reverse_charge"


@pytest.mark.parametrize("vat_id", ["DE123456789", "DE12345", "not a vat id", "", "FR40303265045"])
def test_eu_buyer_without_a_valid_vat_id_of_its_country_is_a_consumer_at_the_seller_rate(vat_id):
    # A bad checksum, a wrong length, garbage, nothing, or another member state's id.
    assert decide("DE", vat_id) == TaxDecision("eu_consumer", 2300, "")


@pytest.mark.parametrize("country", ["US", "CH", "GB", "NO", "BR", "JP"])
def test_buyer_outside_the_eu_is_outside_the_scope(country):
    assert decide(country, "GB123456789") == TaxDecision("export", 0, EXPORT_NOTE)
    assert EXPORT_NOTE == "Outside the scope of EU VAT"


def test_rates_come_from_the_configuration():
    assert decide("IE", rates={"IE": 2100}).rate_bp == 2100
    assert decide("FR", rates={"IE": 2100}).rate_bp == 2100  # consumer: seller's rate
    assert decide("DE", seller="DE") == TaxDecision("domestic", 1900, "")
    # A member state missing from the rates is still EU (not an export).
    assert decide("AT", rates={"IE": 2300}).treatment == "eu_consumer"


def test_missing_seller_rate_is_a_configuration_error():
    with pytest.raises(ValueError, match="No VAT rate"):
        decide("US", seller="IE", rates={"DE": 1900})


@pytest.mark.parametrize(
    "net, rate, expected",
    [
        (900_000, 2300, (900_000, 207_000, 1_107_000)),
        (900_000, 0, (900_000, 0, 900_000)),
        (2, 2500, (2, 1, 3)),  # 0.5 cent rounds up
        (1, 2300, (1, 0, 1)),  # 0.23 cent rounds down
        (3, 2300, (3, 1, 4)),  # 0.69 cent rounds up
        (10_001, 2550, (10_001, 2_550, 12_551)),  # 2550.255 -> 2550
        (-2, 2500, (-2, -1, -3)),  # half away from zero, symmetric
    ],
)
def test_compute_amounts_rounds_tax_half_up_on_cents(net, rate, expected):
    assert compute_amounts(net, rate) == expected


def test_splitting_a_gross_amount_gives_back_the_net_it_was_made_from():
    for rate in (0, 1700, 1900, 2300, 2550, 2700):
        for net in range(0, 20_000, 7):
            _net, tax, gross = compute_amounts(net, rate)
            assert split_gross(gross, rate) == (net, tax, gross)


def test_a_sale_to_an_organisation_is_taxed_with_the_configured_seller_and_rates(settings):
    # The one decision checkout snapshots, the quote shows and invoicing falls back to.
    settings.SELLER = settings.SELLER | {"country": "IE"}
    settings.VAT_RATES = {"IE": 2300}
    sale = tax_for_organisation(Organisation(country="fr", vat_id=""), 900_000)
    assert sale.decision == TaxDecision("eu_consumer", 2300, "")
    assert sale.payment_fields() == {
        "net_minor": 900_000,
        "tax_minor": 207_000,
        "amount_minor": 1_107_000,
        "tax_treatment": "eu_consumer",
        "tax_rate_bp": 2300,
    }
    greek = tax_for_organisation(Organisation(country="GR", vat_id="GR094259216"), 900_000)
    assert (greek.decision.treatment, greek.gross_minor) == ("reverse_charge", 900_000)
