"""DATEV Buchungsstapel (EXTF 700, category 21, format version 13), per DATEV's format
description (https://developer.datev.de/datev/platform/de/dtvf/formate/buchungsstapel and
.../formate/header).

Layout: line 1 the header (31 fields), line 2 the column names, then one booking per
document: `;`-separated, CRLF, text in double quotes (inner quotes doubled), numbers bare
with a decimal comma, Windows-1252. DATEV reads columns by position, so every row carries
all 125 columns of the format.

Booking per document, the DATEV way (one line, gross): Umsatz = gross, always positive;
Konto = receivables, Gegenkonto = the revenue account of the VAT treatment (from
settings.ACCOUNTING); S/H = "S" for an invoice (debit receivables) and "H" for a credit
note. DATEV derives the VAT from the revenue account's automatic function or from the
BU-Schlüssel, configurable per treatment in ACCOUNTING["datev_tax_keys"]. Reverse-charge
bookings carry the buyer's VAT id in "EU-Land u. UStID (Bestimmung)". A credit note for a
cancelled webinar has no Leistungsdatum (nothing was supplied).

Currency: the batch is in the documents' own currency (the booking currency, USD for the
catalogue), and says so: the header's WKZ (field 22) and every line's "WKZ Umsatz" name
that currency, and "Kurs", "Basis-Umsatz" and "WKZ Basis-Umsatz" stay empty. We do not
convert with a configured rate: a fixed rate goes stale and VAT needs the official rate
of each document's date, which DATEV's own rate table (Kurstabelle) applies on import.
The amounts in the file are therefore exactly those of the invoices. One header holds one
currency, so a period whose documents use two currencies is refused (ValueError) rather
than written with a header that contradicts some lines; a period without documents uses
ACCOUNTING["datev_currency"] (default EUR).

Limitations: Belegdatum is TTMM with the year from the header, so a batch must lie
within one calendar year (fiscal years are assumed to be calendar years).
"""

from datetime import date
from typing import IO

from django.conf import settings
from django.utils import timezone

from billing.exports.common import (
    Doc,
    currencies,
    documents,
    kind_label,
    revenue_account,
)
from webinars.formatting import amount_text, percent_text

FORMAT_VERSION = 13
ENCODING = "cp1252"
CRLF = "\r\n"

COLUMNS = (
    "Umsatz (ohne Soll/Haben-Kz)",
    "Soll/Haben-Kennzeichen",
    "WKZ Umsatz",
    "Kurs",
    "Basis-Umsatz",
    "WKZ Basis-Umsatz",
    "Konto",
    "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel",
    "Belegdatum",
    "Belegfeld 1",
    "Belegfeld 2",
    "Skonto",
    "Buchungstext",
    "Postensperre",
    "Diverse Adressnummer",
    "Geschäftspartnerbank",
    "Sachverhalt",
    "Zinssperre",
    "Beleglink",
    *(f"Beleginfo - {kind} {i}" for i in range(1, 9) for kind in ("Art", "Inhalt")),
    "KOST1 - Kostenstelle",
    "KOST2 - Kostenstelle",
    "Kost-Menge",
    "EU-Land u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)",
    "Abw. Versteuerungsart",
    "Sachverhalt L+L",
    "Funktionsergänzung L+L",
    "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer",
    "BU 49 Funktionsergänzung",
    *(
        name
        for i in range(1, 21)
        for name in (f"Zusatzinformation - Art {i}", f"Zusatzinformation- Inhalt {i}")
    ),
    "Stück",
    "Gewicht",
    "Zahlweise",
    "Forderungsart",
    "Veranlagungsjahr",
    "Zugeordnete Fälligkeit",
    "Skontotyp",
    "Auftragsnummer",
    "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)",
    "EU-Land (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)",
    "Erlöskonto (Anzahlungen)",
    "Herkunft-Kz",
    "Buchungs GUID",
    "KOST-Datum",
    "SEPA-Mandatsreferenz",
    "Skontosperre",
    "Gesellschaftername",
    "Beteiligtennummer",
    "Identifikationsnummer",
    "Zeichnernummer",
    "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt",
    "Kennzeichen SoBil-Buchung",
    "Festschreibung",
    "Leistungsdatum",
    "Datum Zuord. Steuerperiode",
    "Fälligkeit",
    "Generalumkehr (GU)",
    "Steuersatz",
    "Land",
    "Abrechnungsreferenz",
    "BVV-Position",
    "EU-Land u. UStID (Ursprung)",
    "EU-Steuersatz (Ursprung)",
    "Abw. Skontokonto",
)


class Text(str):
    """A value written in double quotes (DATEV's text type)."""


def _field(value: object) -> str:
    if isinstance(value, Text):
        clean = " ".join(value.split())  # DATEV forbids line breaks inside fields
        return '"' + clean.replace('"', '""') + '"'
    return "" if value is None else str(value)


def _line(values: list[object]) -> str:
    return ";".join(_field(v) for v in values) + CRLF


def header(start: date, end: date, *, currency: str, created: str | None = None) -> list[object]:
    """The 31 fields of line 1 (EXTF header) for a batch covering [start, end] whose
    bookings are in `currency`."""
    accounts = settings.ACCOUNTING
    created = created or timezone.now().strftime("%Y%m%d%H%M%S%f")[:17]
    label = f"Rechnungsausgang {start:%Y-%m}"[:30]
    return [
        Text("EXTF"),
        700,
        21,
        Text("Buchungsstapel"),
        FORMAT_VERSION,
        created,
        "",
        Text("RE"),
        Text(""),
        Text(""),
        accounts["datev_consultant_number"],
        accounts["datev_client_number"],
        f"{start.year}0101",
        len(str(accounts["receivable"])),
        start.strftime("%Y%m%d"),
        end.strftime("%Y%m%d"),
        Text(label),
        Text(""),
        1,
        0,
        0,
        Text(currency),
        "",
        Text(""),
        "",
        "",
        Text(str(accounts.get("datev_chart", "03"))),
        "",
        "",
        Text(""),
        Text(""),
    ]


def _booking(doc: Doc, *, receivable: str, tax_keys: dict[str, str]) -> list[object]:
    text = f"{kind_label(doc.kind)} {doc.buyer.get('legal_name', '')}"
    if doc.refers_to:
        text = f"{kind_label(doc.kind)} for {doc.refers_to} {doc.buyer.get('legal_name', '')}"
    values: dict[str, object] = {
        "Umsatz (ohne Soll/Haben-Kz)": amount_text(doc.gross_minor, doc.currency, separator=","),
        "Soll/Haben-Kennzeichen": Text("S" if doc.sign > 0 else "H"),
        "WKZ Umsatz": Text(doc.currency),
        "Konto": receivable,
        "Gegenkonto (ohne BU-Schlüssel)": revenue_account(doc.tax_treatment),
        "BU-Schlüssel": Text(tax_keys.get(doc.tax_treatment, "")),
        "Belegdatum": doc.issue_date.strftime("%d%m"),
        "Belegfeld 1": Text(doc.number[:36]),
        "Buchungstext": Text(text[:60]),
        "Leistungsdatum": doc.supply_date.strftime("%d%m%Y") if doc.supply_date else "",
        "Land": Text(doc.buyer.get("country", "")),
        "Festschreibung": 0,
    }
    if doc.tax_treatment == "reverse_charge":
        values["EU-Land u. UStID (Bestimmung)"] = Text(doc.buyer.get("vat_id", "")[:15])
    if doc.tax_rate_bp:
        values["Steuersatz"] = percent_text(doc.tax_rate_bp, separator=",", trim=False)
    return [values.get(column, "") for column in COLUMNS]


def write(start: date, end: date, out: IO[bytes]) -> int:
    """Write the booking batch for documents issued in [start, end]; returns bookings.
    Raises ValueError for a period spanning two years or holding documents in two
    currencies (see the module docstring)."""
    if start.year != end.year:
        raise ValueError("A DATEV booking batch must lie within one calendar year.")
    accounts = settings.ACCOUNTING
    found = currencies(start, end)
    if len(found) > 1:
        raise ValueError(
            f"A DATEV booking batch holds one currency; this period has documents in "
            f"{' and '.join(found)}. Export a period with documents in one currency."
        )
    currency = found[0] if found else str(accounts.get("datev_currency", "EUR"))
    receivable = str(accounts["receivable"])
    tax_keys = accounts.get("datev_tax_keys", {})
    out.write(_line(header(start, end, currency=currency)).encode(ENCODING, errors="replace"))
    out.write(_line([Text(c) for c in COLUMNS]).encode(ENCODING, errors="replace"))
    rows = 0
    for doc in documents(start, end):
        booking = _booking(doc, receivable=receivable, tax_keys=tax_keys)
        out.write(_line(booking).encode(ENCODING, errors="replace"))
        rows += 1
    return rows
