"""manage.py export_accounting --format journal|xlsx|xero|datev|all --from YYYY-MM-DD
--to YYYY-MM-DD --out DIR [--email]: write (and optionally email) the accounting
exports of a period; the default period is the previous calendar month."""

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from billing.exports import (
    EXPORT_FORMATS,
    email_period_exports,
    export_to_directory,
    previous_month,
)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value}") from exc


class Command(BaseCommand):
    help = "Export issued invoices and credit notes of a period for accounting."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", dest="fmt", default="all", choices=[*EXPORT_FORMATS, "all"])
        parser.add_argument("--from", dest="start", type=_date, help="first day (inclusive)")
        parser.add_argument("--to", dest="end", type=_date, help="last day (inclusive)")
        parser.add_argument("--out", type=Path, default=Path("."), help="output directory")
        parser.add_argument(
            "--email", action="store_true", help="also email every format to FINANCE_EMAIL"
        )

    def handle(
        self,
        *args: Any,
        fmt: str,
        start: date | None,
        end: date | None,
        out: Path,
        email: bool,
        **options: Any,
    ) -> None:
        default_start, default_end = previous_month(timezone.now().date())
        start, end = start or default_start, end or default_end
        if end < start:
            raise CommandError("--to is before --from.")
        formats = list(EXPORT_FORMATS) if fmt == "all" else [fmt]
        try:
            written = export_to_directory(formats, start, end, out)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for _key, (path, rows) in written.items():
            self.stdout.write(f"{path}  {rows} rows")
        if email:
            email_period_exports(start, end)
            self.stdout.write("emailed all formats to FINANCE_EMAIL")
