"""Accounting exports over 100,000 issued invoices: throughput and memory flatness.

Builds 100,000 issued invoices (1,000 per day over 100 days, mixed VAT treatments) and
their lines with set-based SQL in a scratch database, then writes each export format
into a byte-counting sink, for a 10-day period (10k invoices) and for all 100 days
(100k). Each export runs in a fresh process (after a one-day warm-up export), and a
sampler thread reads its RSS every 5 ms: the growth during the 100k export should equal
the growth during the 10k one (memory flat in the number of rows).

Floors: for CSV formats, the documents query as a server-side `values_list` iterator
written raw by a plain csv.writer (the journal adds formatting and its double-entry legs
on top); for XLSX, openpyxl's write-only mode appending constant rows of the same shape
without a database (openpyxl itself is the limit there).

RESULT rows_per_s=<journal CSV rows/s> peak_rss_mb=.. journal_docs_per_s=..
       baseline_docs_per_s=.. ratio=.. xero_rows_per_s=.. datev_rows_per_s=..
       xlsx_rows_per_s=.. xlsx_ratio=.. rss_growth_10k_mb=.. rss_growth_100k_mb=..
"""

import csv
import io
import os
import threading
import time
from datetime import date, timedelta

from _common import setup_django

INVOICES = int(os.environ.get("BENCH_INVOICES", "100000"))
PER_DAY = 1000
FIRST_DAY = date(2025, 1, 1)
DEADLINE_S = 120  # no new measurement after this: the run stays within ~3 minutes
STARTED = time.monotonic()
PAGE = os.sysconf("SC_PAGE_SIZE")


class CountingSink(io.RawIOBase):
    """A /dev/null that counts bytes (not seekable, like an HTTP response)."""

    def __init__(self) -> None:
        self.bytes = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.bytes += len(data)
        return len(data)

    def tell(self) -> int:
        return self.bytes


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class RssSampler:
    """Peak RSS growth over a block, sampled every 5 ms in a thread."""

    def __enter__(self) -> "RssSampler":
        self.start = self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())
        self.growth_mb = (self.peak - self.start) / 2**20


def build(cursor) -> None:
    """Organisation, webinar and INVOICES issued invoices (+ one line each) in 2 INSERTs."""
    from django.utils import timezone

    from webinars.models import Organisation, Package, Webinar

    org = Organisation.objects.create(
        legal_name="Bench Buyer GmbH",
        address_line1="Hauptstraße 1",
        city="Berlin",
        postal_code="10115",
        country="DE",
        vat_id="DE136695976",
        billing_email="ap@bench.example",
    )
    now = timezone.now()
    webinar = Webinar.objects.create(
        organisation=org,
        title="Bench keynote",
        package=Package.objects.get(code="10k"),
        capacity=10_000,
        price_minor=900_000,
        currency="USD",
        start_at=now,
        duration_minutes=90,
        time_zone="Europe/Berlin",
        audience_split={"eu-central": 10000},
        cluster_plan={},
        occupied_from=now,
        occupied_until=now + timedelta(hours=3),
        status="completed",
    )
    # Treatments rotate: domestic 23 %, reverse charge, export; numbers INV-2025-000001...
    cursor.execute(
        """
        INSERT INTO billing_invoice (
            code, kind, status, series, year, sequence, number, webinar_id, organisation_id,
            issue_date, supply_date, due_date, currency, seller, buyer, tax_treatment,
            tax_rate_bp, tax_note, net_minor, tax_minor, gross_minor, paid, pdf, created_at,
            issued_at)
        SELECT gen_random_uuid(), 'invoice', 'issued', 'INV', 2025, g,
               'INV-2025-' || lpad(g::text, 6, '0'), %(webinar)s, %(org)s,
               %(first)s::date + ((g - 1) / %(per_day)s), %(first)s::date + 40,
               %(first)s::date + ((g - 1) / %(per_day)s),
               'USD', '{"legal_name": "Mega Webinars Ltd", "vat_id": "IE6388047V"}'::jsonb,
               jsonb_build_object('legal_name', 'Bench Buyer ' || (g %% 997), 'country', 'DE',
                                  'vat_id', 'DE136695976', 'address_line1', 'Hauptstraße 1',
                                  'city', 'Berlin', 'postal_code', '10115',
                                  'billing_email', 'ap@bench.example', 'po_number', ''),
               (ARRAY['domestic', 'reverse_charge', 'export'])[1 + g %% 3],
               CASE WHEN g %% 3 = 0 THEN 2300 ELSE 0 END,
               '', 900000, CASE WHEN g %% 3 = 0 THEN 207000 ELSE 0 END,
               CASE WHEN g %% 3 = 0 THEN 1107000 ELSE 900000 END, true, '', now(), now()
        FROM generate_series(1, %(n)s) AS g
        """,
        {
            "webinar": webinar.pk,
            "org": org.pk,
            "first": FIRST_DAY,
            "per_day": PER_DAY,
            "n": INVOICES,
        },
    )
    cursor.execute(
        """
        INSERT INTO billing_invoiceline (invoice_id, position, description, quantity,
            unit_net_minor, net_minor, tax_rate_bp, tax_minor, gross_minor)
        SELECT id, 1, '10k webinar — single-use webinar capacity package: Bench keynote, '
                      || supply_date, 1, net_minor, net_minor, tax_rate_bp, tax_minor,
               gross_minor
        FROM billing_invoice
        """
    )
    cursor.execute("ANALYZE billing_invoice; ANALYZE billing_invoiceline")


def baseline(start: date, end: date, out) -> int:
    """The floor: the same documents query, written raw by csv.writer."""
    from billing.exports.common import DOC_FIELDS
    from billing.models import Invoice

    text = io.TextIOWrapper(out, newline="")
    writer = csv.writer(text)
    rows = 0
    for row in (
        Invoice.objects.filter(status="issued", issue_date__gte=start, issue_date__lte=end)
        .order_by("issue_date", "kind", "number")
        .values_list(*DOC_FIELDS)
        .iterator(chunk_size=2000)
    ):
        writer.writerow(row)
        rows += 1
    text.flush()
    text.detach()
    return rows


def xlsx_floor(start: date, end: date, out) -> int:
    """openpyxl's own floor: the same number of rows and columns, no database."""
    from decimal import Decimal

    from openpyxl import Workbook

    count = ((end - start).days + 1) * PER_DAY
    workbook = Workbook(write_only=True)
    for name, width in (("Invoices", 17), ("Lines", 12)):
        sheet = workbook.create_sheet(name)
        row = (
            "INV-2025-000001",
            "Invoice",
            start,
            start,
            start,
            "Bench Buyer",
            "DE136695976",
            "DE",
            "",
            "W-ABCDEFGH",
            "",
            "USD",
            "domestic",
            Decimal("23.00"),
            Decimal("9000.00"),
            Decimal("2070.00"),
            Decimal("11070.00"),
        )[:width]
        for _ in range(count):
            sheet.append(row)
    workbook.save(out)
    return 2 * count


def child(name: str, start: str, end: str) -> None:
    """One measured export in a fresh process, so its peak RSS is its own."""
    import json

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from billing.exports import export_period

    first, last = date.fromisoformat(start), date.fromisoformat(end)
    if name == "baseline":
        fn = baseline
    elif name == "xlsx_floor":
        fn = xlsx_floor
    else:

        def fn(s, e, out):
            return export_period(name, s, e, out)

    fn(first, first, io.BufferedWriter(CountingSink()))  # warm imports, caches, connection
    sink = io.BufferedWriter(CountingSink())
    with RssSampler() as rss:
        began = time.perf_counter()
        rows = fn(first, last, sink)
        sink.flush()
        seconds = time.perf_counter() - began
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": seconds,
                "growth_mb": rss.growth_mb,
                "peak_mb": rss.peak / 2**20,
                "bytes": sink.raw.bytes,
            }
        )
    )


def measure(name: str, start: date, end: date) -> dict:
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, __file__, "--child", name, start.isoformat(), end.isoformat()],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    setup_django("bench_export")
    from django.db import connection

    began = time.perf_counter()
    with connection.cursor() as cursor:
        build(cursor)
    connection.close()
    print(
        f"built {INVOICES:,} issued invoices + lines in {time.perf_counter() - began:.1f} s",
        flush=True,
    )
    days = INVOICES // PER_DAY
    small = (FIRST_DAY, FIRST_DAY + timedelta(days=max(1, days // 10) - 1))
    full = (FIRST_DAY, FIRST_DAY + timedelta(days=days - 1))

    results: dict[str, dict] = {}
    for name in ("baseline", "journal", "xero", "datev", "xlsx_floor", "xlsx"):
        if time.monotonic() - STARTED > DEADLINE_S:
            print(f"{name}: skipped (time budget spent)", flush=True)
            continue
        ten = measure(name, *small)
        hundred = measure(name, *full)
        rows, seconds = hundred["rows"], hundred["seconds"]
        results[name] = hundred | {
            "rows_per_s": rows / seconds,
            "docs_per_s": INVOICES / seconds,
            "growth10": ten["growth_mb"],
        }
        print(
            f"{name:10s} {rows:>8,} rows in {seconds:6.2f} s = {rows / seconds:>9,.0f} rows/s "
            f"({INVOICES / seconds:>8,.0f} invoices/s), {hundred['bytes'] / 2**20:5.1f} MB out;"
            f" RSS growth while exporting 10k: {ten['growth_mb']:5.1f} MB, 100k: "
            f"{hundred['growth_mb']:5.1f} MB (peak {hundred['peak_mb']:.0f} MB)",
            flush=True,
        )

    def get(name: str, key: str) -> float:
        return results[name][key] if name in results else 0.0

    def ratio_of(name: str, floor: str, key: str) -> float:
        return get(name, key) / get(floor, key) if get(floor, key) else 0.0

    ratio = ratio_of("journal", "baseline", "docs_per_s")
    xlsx_ratio = ratio_of("xlsx", "xlsx_floor", "rows_per_s")
    print(
        f"journal vs baseline (invoices/s): {ratio:.2f}; xlsx vs openpyxl floor: {xlsx_ratio:.2f}",
        flush=True,
    )
    peak = max((r["peak_mb"] for r in results.values()), default=0)
    growth10 = max((r["growth10"] for r in results.values()), default=0)
    growth100 = max((r["growth_mb"] for r in results.values()), default=0)
    print(
        f"RESULT rows_per_s={get('journal', 'rows_per_s'):.0f} peak_rss_mb={peak:.1f} "
        f"journal_docs_per_s={get('journal', 'docs_per_s'):.0f} "
        f"baseline_docs_per_s={get('baseline', 'docs_per_s'):.0f} ratio={ratio:.2f} "
        f"xero_rows_per_s={get('xero', 'rows_per_s'):.0f} "
        f"datev_rows_per_s={get('datev', 'rows_per_s'):.0f} "
        f"xlsx_rows_per_s={get('xlsx', 'rows_per_s'):.0f} xlsx_ratio={xlsx_ratio:.2f} "
        f"rss_growth_10k_mb={growth10:.1f} rss_growth_100k_mb={growth100:.1f}",
        flush=True,
    )


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        main()
