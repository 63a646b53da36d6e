"""Countries and VAT ids have one home, `webinars.countries`: the organisation form, the
services (and so the admin), VAT and the booking defaults read a country and a VAT id
the same way."""

import pycountry
import pytest
from django.core.exceptions import ValidationError
from stdnum.eu import vat as eu_vat

from billing.tax import tax_for_organisation
from webinars import geography, services
from webinars.countries import (
    EU_MEMBER_STATES,
    is_valid_vat_id,
    normalise_vat_id,
    validate_country,
)


@pytest.mark.parametrize(
    ("raw", "country", "stored"),
    [
        ("de 136-695.976", "DE", "DE136695976"),
        ("136695976", "de", "DE136695976"),
        ("GR 094259216", "GR", "EL094259216"),  # Greece's ISO code typed as the prefix
        ("094259216", "EL", "EL094259216"),
        ("12-3456789", "US", "123456789"),  # outside the EU: compacted only
        ("", "DE", ""),
    ],
)
def test_a_vat_id_is_stored_compact_with_its_prefix(raw, country, stored):
    assert normalise_vat_id(raw, country) == stored


def test_vat_ids_are_valid_only_for_their_own_member_state():
    assert is_valid_vat_id("EL094259216", "GR") and is_valid_vat_id("094259216", "GR")
    assert not is_valid_vat_id("DE136695976", "AT")  # another state's id
    assert not is_valid_vat_id("DE123456789", "DE")  # bad checksum
    assert not is_valid_vat_id("123456789", "US")  # not an EU VAT id at all


def test_services_store_countries_and_vat_ids_as_the_form_does(organiser):
    organisation = organiser.membership.organisation
    services.update_organisation(
        organisation, actor=organiser, country="de", vat_id="de 136 695 976"
    )
    organisation.refresh_from_db()
    assert (organisation.country, organisation.vat_id) == ("DE", "DE136695976")
    services.update_organisation(organisation, actor=organiser, country="uk")
    organisation.refresh_from_db()
    assert (organisation.country, organisation.vat_id) == ("GB", "DE136695976")
    services.update_organisation(organisation, actor=organiser, country="GR", vat_id="GR094259216")
    organisation.refresh_from_db()
    assert organisation.vat_id == "EL094259216"
    assert tax_for_organisation(organisation, 900_000).decision.treatment == "reverse_charge"


def test_every_iso_country_and_kosovo_are_accepted_and_nothing_else():
    for country in pycountry.countries:
        validate_country(country.alpha_2)
    validate_country("XK")
    for code in ("UK", "EL", "ZZ", "EU", "de", ""):
        with pytest.raises(ValidationError, match="is not an ISO country code"):
            validate_country(code)


def test_eu_member_states_are_the_ones_python_stdnum_checks_vat_ids_for():
    # stdnum also lists XI (Northern Ireland, for goods only): not a country of ours.
    assert {code.upper() for code in eu_vat.MEMBER_STATES} - {"XI"} == EU_MEMBER_STATES


@pytest.mark.parametrize(
    ("country", "zone", "preset"),
    [
        ("uk", "Europe/London", "europe"),
        ("EL", "Europe/Athens", "europe"),
        ("XK", "Europe/Belgrade", "europe"),
        ("br", "America/Sao_Paulo", "south-america"),
    ],
)
def test_booking_defaults_read_countries_as_the_form_does(country, zone, preset):
    assert geography.main_time_zone(country) == zone
    assert geography.audience_preset(country) == preset
