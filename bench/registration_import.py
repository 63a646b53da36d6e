"""Import invitee CSV files of 100,000 and 1,000,000 rows through the real service
(`events.services.invitees.start_import`: stored upload, streamed csv, per-row checks,
COPY straight into the registrants table, repeats set aside by a Bloom filter and moved in
through a staging table with INSERT ... ON CONFLICT) on PostgreSQL, each in a fresh
process so that its peak RSS (VmHWM) is its own.

rows_per_s   rows imported per second of the service call, 1M file (target >= 50,000)
peak_rss_mb  the importing process's peak RSS on the 1M file (target < 200)
peak_100k    the same on the 100k file: flat memory means the two peaks are close
floor        psycopg COPY of the same 1M file straight into a text table, no checks, no
             insert: what PostgreSQL takes in at best on this machine; ratio = rows_per_s /
             floor_rows_per_s

Everything lives in a temporary folder and a scratch database, both removed at the end.

RESULT rows_per_s=.. peak_rss_mb=.. peak_100k_mb=.. floor_rows_per_s=.. ratio=..
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, seed_round_the_clock_roster, setup_django

COUNTRIES = "US DE FR GB IE NL ES IT PL SE BR MX CA JP IN AU SG KR ZA NG AR CL CO PT AT".split()  # noqa: SIM905


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def write_csv(path: Path, rows: int) -> None:
    """`rows` invitees; every 50th address repeats an earlier one (a duplicate in the
    file), as real exports do."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("email,name,country\n")
        chunk = []
        for i in range(rows):
            n = i - 1 if i % 50 == 49 else i
            chunk.append(f"guest{n}@example{n % 97}.org,Guest Number {n},{COUNTRIES[n % 25]}\n")
            if len(chunk) == 10_000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))


def child(mode: str, csv_path: str, media: str) -> None:
    """Run in a fresh process against the scratch database (already migrated)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.files import File
    from django.db import connection

    settings.MEDIA_ROOT = media
    settings.ATTENDEE_IMPORT_SYNC_MAX_BYTES = 1 << 40  # in this process, to measure it
    base_mb = vm_hwm_mb()
    if mode == "floor":
        started = time.perf_counter()
        with connection.cursor() as cursor, open(csv_path, "rb") as source:
            cursor.execute("CREATE TEMP TABLE floor_copy (email text, name text, country text)")
            with cursor.cursor.copy("COPY floor_copy FROM STDIN (FORMAT csv, HEADER)") as copy:
                while block := source.read(1 << 20):
                    copy.write(block)
            cursor.execute("SELECT count(*) FROM floor_copy")
            rows = cursor.fetchone()[0]
        elapsed = time.perf_counter() - started
        print(json.dumps({"rows": rows, "seconds": elapsed, "peak_mb": vm_hwm_mb()}))
        return

    from events.services import invitees
    from webinars.models import Webinar

    webinar = Webinar.objects.get(title="Registration import bench")
    with open(csv_path, "rb") as source:
        upload = File(source, name="invitees.csv")
        started = time.perf_counter()
        job = invitees.start_import(
            webinar, actor=None, upload=upload, filename="invitees.csv", send_links=False
        )
        elapsed = time.perf_counter() - started
    assert job.state == "done", (job.state, job.errors[:3])
    print(
        json.dumps(
            {
                "rows": job.rows,
                "imported": job.imported,
                "duplicates": job.duplicates,
                "seconds": elapsed,
                "base_mb": base_mb,
                "peak_mb": vm_hwm_mb(),
            }
        )
    )
    # The next run starts from an empty webinar.
    webinar.registrants.all().delete()


def run_child(mode: str, csv_path: Path, media: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(csv_path), str(media)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    setup_django("bench_registration_import")
    from django.db import connections

    from tests.conftest import make_organiser
    from tests.events.registration_helpers import confirmed_webinar
    from webinars.models import Package

    seed_round_the_clock_roster()  # the hold needs its Event Services team
    organiser = make_organiser("bench@acme.example", "Bench Campaigns Inc")
    confirmed_webinar(organiser, Package.objects.get(code="1m"), title="Registration import bench")
    connections.close_all()

    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        folder = Path(tmp)
        media = folder / "media"
        media.mkdir()
        results = {}
        for rows in (100_000, 1_000_000):
            path = folder / f"invitees-{rows}.csv"
            started = time.perf_counter()
            write_csv(path, rows)
            size_mb = path.stat().st_size / 1e6
            print(
                f"{rows:>9,} rows: file {size_mb:.1f} MB written in "
                f"{time.perf_counter() - started:.1f} s"
            )
            results[rows] = run_child("import", path, media)
            r = results[rows]
            print(
                f"{rows:>9,} rows: imported {r['imported']:,} (duplicates {r['duplicates']:,}) in "
                f"{r['seconds']:.1f} s = {r['rows'] / r['seconds']:,.0f} rows/s; "
                f"peak RSS {r['peak_mb']:.0f} MB (after start-up {r['base_mb']:.0f} MB)"
            )
        floor = run_child("floor", folder / "invitees-1000000.csv", media)
        leftovers = list(media.rglob("*.csv"))
    floor_rate = floor["rows"] / floor["seconds"]
    big = results[1_000_000]
    rate = big["rows"] / big["seconds"]
    print(f"floor: COPY of the raw 1M file, no checks: {floor_rate:,.0f} rows/s")
    print(
        f"peak RSS 100k -> 1M: {results[100_000]['peak_mb']:.0f} MB -> {big['peak_mb']:.0f} MB "
        f"(x10 rows, x{big['peak_mb'] / results[100_000]['peak_mb']:.2f} memory)"
    )
    print(f"stored uploads left behind: {len(leftovers)}")
    print(
        f"RESULT rows_per_s={rate:.0f} peak_rss_mb={big['peak_mb']:.0f} "
        f"peak_100k_mb={results[100_000]['peak_mb']:.0f} floor_rows_per_s={floor_rate:.0f} "
        f"ratio={rate / floor_rate:.2f}"
    )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
