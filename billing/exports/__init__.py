"""Accounting exports of issued invoices and credit notes, by issue-date period.

Each format is a `write(start, end, out) -> rows` function that streams documents from
the database into a binary file-like object without holding the period in memory.
"""

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO

from django.conf import settings

from billing.exports import datev, journal, xero, xlsx


@dataclass(frozen=True)
class ExportFormat:
    key: str
    label: str
    extension: str
    content_type: str
    write: Callable[[date, date, IO[bytes]], int]

    def filename(self, start: date, end: date) -> str:
        period = f"{start:%Y-%m-%d}_{end:%Y-%m-%d}"
        if self.key == "datev":
            # DATEV's import looks for EXTF_ files.
            return f"EXTF_Buchungsstapel_{period}.{self.extension}"
        return f"{self.key}_{period}.{self.extension}"


EXPORT_FORMATS: dict[str, ExportFormat] = {
    "journal": ExportFormat(
        "journal", "Journal CSV", "csv", "text/csv; charset=utf-8", journal.write
    ),
    "xlsx": ExportFormat(
        "xlsx",
        "Excel (XLSX)",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        xlsx.write,
    ),
    "xero": ExportFormat("xero", "Xero CSV", "csv", "text/csv; charset=utf-8", xero.write),
    "datev": ExportFormat(
        "datev", "DATEV (EXTF)", "csv", "text/csv; charset=windows-1252", datev.write
    ),
}


def export_period(fmt: str, start: date, end: date, out: IO[bytes]) -> int:
    """Write issued documents with issue_date in [start, end] (inclusive) in format
    `fmt` to `out`; returns the data rows written. KeyError for an unknown format,
    ValueError when the period ends before it starts (or breaks a format's own rule)."""
    if end < start:
        raise ValueError("The period ends before it starts.")
    return EXPORT_FORMATS[fmt].write(start, end, out)


def previous_month(today: date) -> tuple[date, date]:
    """The first and last day of the calendar month before `today`'s."""
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def export_to_directory(
    formats: list[str], start: date, end: date, directory: Path
) -> dict[str, tuple[Path, int]]:
    """Write each format into `directory`; returns format -> (path, rows)."""
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, tuple[Path, int]] = {}
    for key in formats:
        path = directory / EXPORT_FORMATS[key].filename(start, end)
        with path.open("wb") as handle:
            written[key] = (path, export_period(key, start, end, handle))
    return written


def email_period_exports(start: date, end: date, *, to: str | None = None) -> int:
    """Email every format for [start, end] as attachments to `to` (FINANCE_EMAIL);
    returns the number of messages sent (1). A format that refuses the period (DATEV
    takes one currency per batch) is left out and the email says why, so one format's
    rule never withholds the others."""
    from billing.emails import make_message

    with tempfile.TemporaryDirectory(prefix="exports-") as folder:
        attachments = []
        counts: dict[str, int] = {}
        refused: dict[str, str] = {}
        for key, fmt in EXPORT_FORMATS.items():
            try:
                written = export_to_directory([key], start, end, Path(folder))
            except ValueError as exc:
                refused[fmt.label] = str(exc)
                continue
            path, rows = written[key]
            attachments.append((path.name, path.read_bytes(), fmt.content_type.split(";")[0]))
            counts[fmt.label] = rows
        message = make_message(
            "finance-exports",
            to or settings.FINANCE_EMAIL,
            {"start": start, "end": end, "counts": counts, "refused": refused},
            attachments=attachments,
        )
        return message.send()
