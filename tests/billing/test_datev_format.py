"""The DATEV file checked against the EXTF rules DATEV publishes for a Buchungsstapel
(header 700, category 21, format version 13; https://developer.datev.de/datev/platform/de/dtvf):
field counts and positions, value patterns, and one currency from header to lines."""

import io
import re
from datetime import date

import pytest
from django.utils import timezone

from billing.exports import datev, email_period_exports, export_period
from billing.services import invoicing
from tests.billing.finance_helpers import made_refund, organiser_in, paid_payment
from webinars.models import Package

# Header: position (1-based) -> pattern, per DATEV's header description.
HEADER_RULES = {
    1: r'"EXTF"',
    2: r"700",
    3: r"21",
    4: r'"Buchungsstapel"',
    5: r"13",
    6: r"\d{17}",  # created: YYYYMMDDHHMMSSFFF
    7: r"",
    8: r'"[A-Z]{0,2}"',
    11: r"\d{4,7}",  # Beraternummer 1001..9999999
    12: r"\d{1,5}",  # Mandantennummer
    13: r"\d{4}0101",  # WJ-Beginn (calendar fiscal year)
    14: r"[4-9]",  # Sachkontenlänge
    15: r"\d{8}",
    16: r"\d{8}",
    17: r'"[^"]{0,30}"',
    18: r'"[A-Z]{0,2}"',
    19: r"[12]",  # Buchungstyp 1 = Finanzbuchführung
    20: r"(0|30|40|50|64)?",
    21: r"[01]",  # Festschreibung
    22: r'"[A-Z]{3}"',  # WKZ
    27: r'"\d{2}"',  # SKR
}
# Bookings: column name -> pattern, per DATEV's Buchungsstapel description.
LINE_RULES = {
    "Umsatz (ohne Soll/Haben-Kz)": r"\d{1,10},\d{2}",
    "Soll/Haben-Kennzeichen": r'"[SH]"',
    "WKZ Umsatz": r'"[A-Z]{3}"',
    "Kurs": r"([1-9]\d{0,3},\d{2,6})?",
    "Basis-Umsatz": r"(\d{1,10},\d{2})?",
    "WKZ Basis-Umsatz": r'("[A-Z]{3}")?',
    "Konto": r"\d{1,9}",
    "Gegenkonto (ohne BU-Schlüssel)": r"\d{1,9}",
    "BU-Schlüssel": r'("\d{0,4}")?',
    "Belegdatum": r"(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])",
    "Belegfeld 1": r'"[\w$%\-/]{1,36}"',
    "Buchungstext": r'"[^"]{0,60}"',
    "EU-Land u. UStID (Bestimmung)": r'("[A-Z]{2}[A-Z0-9]{2,13}")?',
    "Leistungsdatum": r"(\d{8})?",
    "Festschreibung": r"[01]?",
    "Steuersatz": r"(\d{1,2},\d{2})?",
    "Land": r'("[A-Z]{2}")?',
}


def _export(start: date, end: date) -> tuple[str, int]:
    out = io.BytesIO()
    rows = export_period("datev", start, end, out)
    return out.getvalue().decode(datev.ENCODING), rows


def _fields(line: str) -> list[str]:
    # No field holds a ';' inside quotes in these fixtures, so a plain split is exact.
    return line.split(";")


def check_extf(text: str) -> tuple[list[str], list[str], list[dict[str, str]]]:
    """Assert the EXTF rules; return the header, the column names and the bookings."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    first, second, *rest = text[: -len("\r\n")].split("\r\n")
    header = _fields(first)
    assert len(header) == 31
    for position, pattern in HEADER_RULES.items():
        assert re.fullmatch(pattern, header[position - 1]), (position, header[position - 1])
    start, end = header[14], header[15]
    assert header[12][:4] == start[:4] == end[:4] and start <= end
    columns = [c.strip('"') for c in _fields(second)]
    assert columns == list(datev.COLUMNS) and len(columns) == 125
    bookings = []
    for line in rest:
        values = _fields(line)
        assert len(values) == 125
        booking = dict(zip(columns, values, strict=True))
        for name, pattern in LINE_RULES.items():
            assert re.fullmatch(pattern, booking[name]), (name, booking[name])
        # Currency: every line in the header's currency, without a conversion.
        assert booking["WKZ Umsatz"] == header[21]
        assert booking["Kurs"] == booking["Basis-Umsatz"] == booking["WKZ Basis-Umsatz"] == ""
        # Accounts no longer than the header's Sachkontenlänge (+1 for personal accounts).
        for account in ("Konto", "Gegenkonto (ohne BU-Schlüssel)"):
            assert len(booking[account]) <= int(header[13]) + 1
        # Belegdatum is TTMM of the header's year and lies within its period.
        day = f"{start[:4]}{booking['Belegdatum'][2:]}{booking['Belegdatum'][:2]}"
        assert start <= day <= end
        bookings.append(booking)
    return header, columns, bookings


@pytest.fixture
def usd_documents(package_10k):
    ie = organiser_in("IE", "Dublin Events Ltd")
    de = organiser_in("DE", "Berlin Media GmbH", vat_id="DE136695976")
    payment = paid_payment(ie, package_10k)
    invoices = [
        invoicing.issue_invoice(p, actor=None) for p in (payment, paid_payment(de, package_10k))
    ]
    return invoices, invoicing.issue_credit_note(made_refund(payment, 500_000), actor=None)


def test_a_usd_batch_says_usd_in_the_header_and_on_every_line(usd_documents):
    today = timezone.now().date()
    text, rows = _export(today, today)
    header, _columns, bookings = check_extf(text)
    assert header[21] == '"USD"' and rows == len(bookings) == 3
    assert {b["WKZ Umsatz"] for b in bookings} == {'"USD"'}
    credit = next(b for b in bookings if b["Belegfeld 1"] == f'"{usd_documents[1].number}"')
    assert (credit["Soll/Haben-Kennzeichen"], credit["Umsatz (ohne Soll/Haben-Kz)"]) == (
        '"H"',
        "5000,00",
    )


def test_a_eur_batch_says_eur(package_10k):
    Package.objects.filter(pk=package_10k.pk).update(currency="EUR")
    package_10k.refresh_from_db()
    invoicing.issue_invoice(
        paid_payment(organiser_in("IE", "Dublin Events Ltd"), package_10k), actor=None
    )
    today = timezone.now().date()
    header, _columns, bookings = check_extf(_export(today, today)[0])
    assert header[21] == '"EUR"' and [b["WKZ Umsatz"] for b in bookings] == ['"EUR"']


def test_an_empty_period_is_still_a_valid_file(db):
    day = date(timezone.now().year, 1, 1)
    header, _columns, bookings = check_extf(_export(day, day)[0])
    assert bookings == [] and header[21] == '"EUR"'  # ACCOUNTING["datev_currency"]


def test_a_period_with_two_currencies_is_refused_rather_than_mislabelled(package_10k):
    user = organiser_in("IE", "Dublin Events Ltd")
    invoicing.issue_invoice(paid_payment(user, package_10k), actor=None)
    Package.objects.filter(pk=package_10k.pk).update(currency="EUR")
    package_10k.refresh_from_db()
    invoicing.issue_invoice(paid_payment(user, package_10k, title="In euros"), actor=None)
    today = timezone.now().date()
    with pytest.raises(ValueError, match="EUR and USD"):
        _export(today, today)


def test_the_monthly_email_keeps_the_other_formats_when_datev_refuses_the_period(
    package_10k, mailoutbox
):
    user = organiser_in("IE", "Dublin Events Ltd")
    invoicing.issue_invoice(paid_payment(user, package_10k), actor=None)
    Package.objects.filter(pk=package_10k.pk).update(currency="EUR")
    package_10k.refresh_from_db()
    invoicing.issue_invoice(paid_payment(user, package_10k, title="In euros"), actor=None)
    today = timezone.now().date()

    assert email_period_exports(today, today) == 1

    (message,) = mailoutbox
    names = [name for name, _content, _type in message.attachments]
    assert len(names) == 3 and not any(name.startswith("EXTF_") for name in names)
    assert "DATEV (EXTF): not attached" in message.body and "EUR and USD" in message.body
