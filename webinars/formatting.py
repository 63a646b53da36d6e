"""How amounts, rates and times are written: the one home of these rules for pages, emails,
PDFs, the admin, exports and error messages (billing imports it; it imports no app).

Inputs are integers: money in minor units plus an ISO 4217 code, rates in basis points
(2300 = 23 %). A currency's number of minor units comes from Babel's CLDR data (USD 2,
JPY 0, BHD 3), never an assumed 2, and every conversion is integer or exact `Decimal`
arithmetic: there are no floats here.

Two kinds of output:

- For people, locale-aware with Babel in the active Django language (the default
  language in workers): `format_money` writes the locale's currency format followed by
  the ISO code, because a symbol alone is ambiguous ("$9,000.00 USD"; a currency whose
  symbol is its code, e.g. CHF, reads "CHF 9,000.00"); `format_money_code` puts the code
  first, as invoices and finance tables do ("USD 9,000.00", "USD -9,000.00");
  `format_percent` writes a rate ("23%", "25.5%"); `format_in_zone` writes a time.
- For machines (export files, tax codes, message parameters), fixed and locale-free:
  `amount_text`, `percent_text` and `decimal_text`, with the decimal separator a format
  prescribes (DATEV a comma, CSV a dot).
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision, get_currency_symbol
from babel.numbers import format_percent as babel_format_percent
from django.conf import settings
from django.utils import translation

# The code-first style: the number in the locale's symbols, grouping as in English, and as
# many decimals as the currency has (Babel's `currency_digits` replaces the two here).
CODE_FIRST_NUMBER = "#,##0.00"


@cache
def _parse_locale(name: str) -> Locale:
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(translation.to_locale(settings.LANGUAGE_CODE))


def current_locale() -> Locale:
    """The Babel locale of the active Django language (the default one outside a request)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    return _parse_locale(translation.to_locale(language))


def minor_exponent(currency: str) -> int:
    """How many decimals the currency's minor unit has: USD 2, JPY 0, BHD 3."""
    return int(get_currency_precision(currency.upper()))


def to_decimal(minor: int, currency: str) -> Decimal:
    """Minor units as an exact Decimal of the major unit: 123456 USD -> Decimal('1234.56')."""
    return Decimal(int(minor)).scaleb(-minor_exponent(currency))


def percent_decimal(basis_points: int) -> Decimal:
    """A rate as an exact Decimal of percent: 2550 -> Decimal('25.50')."""
    return Decimal(int(basis_points)).scaleb(-2)


def format_money(minor: int, currency: str, *, locale: Locale | None = None) -> str:
    """For people: "$9,000.00 USD", "-€12.30 EUR", "¥900,000 JPY", "CHF 9,000.00"."""
    locale = locale or current_locale()
    code = currency.upper()
    if get_currency_symbol(code, locale) == code:
        # The code would stand twice; Babel also glues a code to the digits ("CHF9").
        return format_money_code(minor, code, locale=locale)
    return f"{format_currency(to_decimal(minor, code), code, locale=locale)} {code}"


def format_money_code(minor: int, currency: str, *, locale: Locale | None = None) -> str:
    """For documents and finance tables: "USD 9,000.00", "USD -9,000.00", "JPY 900,000"."""
    code = currency.upper()
    number = format_currency(
        to_decimal(minor, code), code, format=CODE_FIRST_NUMBER, locale=locale or current_locale()
    )
    return f"{code} {number}"


def format_percent(basis_points: int, *, locale: Locale | None = None) -> str:
    """For people: 2300 -> "23%", 2550 -> "25.5%" (German: "23 %"), up to two decimals."""
    fraction = Decimal(int(basis_points)).scaleb(-4)
    return babel_format_percent(
        fraction, locale=locale or current_locale(), decimal_quantization=False
    )


def decimal_text(value: int, places: int, *, separator: str = ".", trim: bool = False) -> str:
    """For machines: the integer `value` scaled down by `places` decimals, exactly:
    (-1230, 2) -> "-12.30"; with `trim`, trailing zeros go: (2550, 2) -> "25.5"."""
    sign = "-" if value < 0 else ""
    whole, fraction = divmod(abs(int(value)), 10**places)
    digits = f"{fraction:0{places}d}" if places else ""
    if trim:
        digits = digits.rstrip("0")
    return f"{sign}{whole}{separator}{digits}" if digits else f"{sign}{whole}"


def amount_text(minor: int, currency: str, *, separator: str = ".") -> str:
    """For machines: minor units in the currency's decimals: "-12.30", "900000" (JPY)."""
    return decimal_text(minor, minor_exponent(currency), separator=separator)


def percent_text(basis_points: int, *, separator: str = ".", trim: bool = True) -> str:
    """For machines: a rate in percent without the sign: "23", "25.5" ("23.00" untrimmed)."""
    return decimal_text(basis_points, 2, separator=separator, trim=trim)


def zone_abbreviation(moment: datetime) -> str:
    """The zone's abbreviation at that moment ("CET", "EDT"). Zones that have no letters
    for it (tzdata writes "+04", "-03") are shown as an offset from UTC ("UTC+4")."""
    name = moment.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    hours, rest = divmod(int(abs(offset).total_seconds()) // 60, 60)
    if not hours and not rest:
        return "UTC"
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def format_in_zone(moment: datetime | None, zone: str) -> str:
    """The one way times are shown to people (pages, emails, invoices): in the webinar's
    zone with the zone's abbreviation, e.g. "Fri 15 Jan 2027, 15:00 CET". Times are aware
    UTC in the database; a naive one is read as UTC rather than as the server's zone."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%a %d %b %Y, %H:%M} {zone_abbreviation(local)}"
