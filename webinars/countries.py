"""Countries: which codes exist, what people type for them, the EU member states, and how a
VAT id is written. The one home of these rules for the organisation form, the services,
the admin, VAT (`billing.tax`) and the booking defaults (`webinars.geography`).

The code list is ISO 3166-1 alpha-2 from pycountry (the Debian iso-codes data, updated
with every ISO change), plus XK (Kosovo: not in ISO, but a code invoices and VAT systems
use). pycountry rather than django-countries: we need the list, not a model field: a
`CountryField` would change the column, the form widget and the error messages, and
pycountry carries no Django coupling. Neither library knows the aliases people type (EL,
Greece's VAT prefix; UK), EU membership or time zones, so those stay here (and the zones
in `geography`, from the IANA database, keyed by these codes).
"""

from functools import cache

import pycountry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.eu import vat as eu_vat
from stdnum.util import clean

# Codes outside ISO 3166-1 that we accept.
EXTRA_COUNTRIES = frozenset({"XK"})

# The 27 EU member states. Fixed here rather than derived from VAT_RATES so that a rate
# missing from the settings never turns an EU buyer into an "export".
EU_MEMBER_STATES = frozenset(
    "AT BE BG HR CY CZ DE DK EE ES FI FR GR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()  # noqa: SIM905
)
# VAT ids use the ISO code as prefix, except Greece ("EL").
VAT_PREFIXES = {"GR": "EL"}

# Codes people type that are not ISO codes but mean one: Greece's VAT prefix, the UK.
ALIASES = {"EL": "GR", "UK": "GB"}

# What people put between the parts of a VAT id ("DE 136 695 976", "IE-6388047V").
VAT_SEPARATORS = " -./,"


@cache
def country_codes() -> frozenset[str]:
    """Every code `validate_country` accepts."""
    return frozenset(country.alpha_2 for country in pycountry.countries) | EXTRA_COUNTRIES


def normalise_country(value: str) -> str:
    """A country as typed -> the code we store: trimmed, upper case, aliases resolved."""
    code = (value or "").strip().upper()
    return ALIASES.get(code, code)


def validate_country(value: str) -> None:
    if value not in country_codes():
        raise ValidationError(
            _("'%(value)s' is not an ISO country code (e.g. US, DE, GB)."),
            params={"value": value},
        )


def vat_prefix(country: str) -> str:
    """The prefix of a member state's VAT ids: its ISO code, EL for Greece."""
    code = normalise_country(country)
    return VAT_PREFIXES.get(code, code)


def normalise_vat_id(raw: str, country: str) -> str:
    """A VAT id as stored: compact (no separators), upper case and, for an EU member state,
    with its VAT prefix (typed or not; GR is read as Greece's EL). Other countries' ids
    are only compacted. Says nothing about validity: see `is_valid_vat_id`."""
    compact = clean(raw or "", VAT_SEPARATORS).strip().upper()
    code = normalise_country(country)
    if not compact or code not in EU_MEMBER_STATES:
        return compact
    prefix = vat_prefix(code)
    if code == "GR" and compact.startswith("GR"):
        return prefix + compact[2:]
    return compact if compact.startswith(prefix) else prefix + compact


def is_valid_vat_id(vat_id: str, country: str) -> bool:
    """True when `vat_id` is a valid EU VAT id (format and checksum, python-stdnum) of the
    member state `country`. The prefix may be omitted; another state's prefix fails.
    Whether the id is *registered* (a VIES lookup) is not checked."""
    code = normalise_country(country)
    if code not in EU_MEMBER_STATES:
        return False
    number = normalise_vat_id(vat_id, code)
    return bool(number) and bool(eu_vat.is_valid(number))
