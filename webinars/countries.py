"""ISO 3166-1 alpha-2 country codes (plus XK, Kosovo, which invoices commonly use)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ISO_COUNTRIES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS XK YE YT ZA ZM ZW
    """.split()  # noqa: SIM905 - a block of codes reads better than a list
)

# The 27 EU member states. Fixed here rather than derived from VAT_RATES so that a rate
# missing from the settings never turns an EU buyer into an "export".
EU_MEMBER_STATES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()  # noqa: SIM905
)
# VAT ids use the ISO code as prefix, except Greece ("EL").
VAT_PREFIXES = {"GR": "EL"}

# Codes people type that are not ISO codes but mean one: Greece's VAT prefix, the UK.
ALIASES = {"EL": "GR", "UK": "GB"}


def normalise_country(value: str) -> str:
    code = value.strip().upper()
    return ALIASES.get(code, code)


def validate_country(value: str) -> None:
    if value not in ISO_COUNTRIES:
        raise ValidationError(
            _("'%(value)s' is not an ISO country code (e.g. US, DE, GB)."),
            params={"value": value},
        )
