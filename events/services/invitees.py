"""Invitee import: a CSV file of up to ATTENDEE_IMPORT_MAX_ROWS people, all or nothing.

The file is read once, as a stream (csv over a text wrapper over the stored file, never a
list), each row checked by the registration form's rules and, when good, sent straight
into `events_registrant` through psycopg's COPY, so that PostgreSQL inserts and indexes
while Python parses. A Bloom filter (rbloom, a fixed 2.4 MB at a million rows), filled
with the addresses already registered, tells a new address from one that may have been
seen: those rows (repeats in the file, existing registrants, and under 1 % of new
addresses by the filter's error) are spilled to a temporary file and go in afterwards
through a staging table and `INSERT ... ON CONFLICT (webinar, email) DO NOTHING` in file
order, so a repeated address keeps its first row and addresses already registered keep
theirs.

All or nothing: the COPY runs in a savepoint. If any row is bad, the savepoint is rolled
back and the organiser gets the first ATTENDEE_IMPORT_SHOWN_ERRORS errors (line numbers as
a spreadsheet shows them) and the count. If someone registers on the public page with an
address of the file between the filter's read and the COPY (a unique violation), the
savepoint is rolled back and the file imported again through the staging table alone,
which is exact whatever happens alongside. Imports of one webinar take turns (an advisory
lock). Memory stays flat: the filter's size is fixed, spilled rows are on disk, the error
list is capped, and the country -> region memo holds a few hundred entries.

Small files (up to ATTENDEE_IMPORT_SYNC_MAX_BYTES) are imported in the request; larger
ones by a Celery task (`events.tasks.import_invitees_task`) while the result page polls.
The whole import runs in one transaction holding the import's row lock, so a redelivered
task waits for a running one and then finds it finished.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone
from psycopg import Cursor
from psycopg.errors import UniqueViolation
from rbloom import Bloom

from events.errors import AttendeeError
from events.models import InviteeImport, Registrant
from events.selectors.attendees import region_chooser, registered_emails
from events.services.registration import (
    OPEN_STATUSES,
    clean_country,
    clean_email,
    clean_name,
    wake_mailer,
)
from webinars import audit
from webinars.jobs import enqueue_on_commit
from webinars.models import User, Webinar

log = logging.getLogger(__name__)

IMPORT_TASK = "events.tasks.import_invitees_task"
COLUMNS = ("email", "name", "country")
COPY_CHUNK = 1 << 20  # bytes handed to COPY at a time
# The Bloom filter's false "maybe seen" rate: that share of new addresses takes the slower
# staging path. Sized for the largest file plus the registrants already there: about 2.4 MB
# at a million rows, whatever the file holds.
SEEN_ERROR_RATE = 0.01
# CSV fields longer than this are not names or addresses; the csv module refuses them.
FIELD_LIMIT = 4096


@dataclass
class Outcome:
    rows: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    error_count: int = 0

    def add_error(self, line: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < settings.ATTENDEE_IMPORT_SHOWN_ERRORS:
            self.errors.append((line, message))


def start_import(
    webinar: Webinar, *, actor: User | None, upload: File, filename: str, send_links: bool = True
) -> InviteeImport:
    """Store the upload and import it: now when small, else through a worker."""
    if webinar.status not in OPEN_STATUSES:
        raise AttendeeError("import_not_allowed")
    with transaction.atomic():
        job = InviteeImport(
            webinar=webinar,
            created_by=actor,
            filename=(filename or "")[:200],
            size_bytes=upload.size or 0,
        )
        job.file.save(f"{job.code}.csv", upload, save=False)
        job.save()
        if job.size_bytes > settings.ATTENDEE_IMPORT_SYNC_MAX_BYTES:
            enqueue_on_commit(IMPORT_TASK, import_id=job.pk, send_links=send_links)
    if job.size_bytes <= settings.ATTENDEE_IMPORT_SYNC_MAX_BYTES:
        job = run_import(job.pk, send_links=send_links)
    return job


def run_import(import_id: int, *, send_links: bool = True) -> InviteeImport:
    """Import the stored file of `import_id` (idempotent: a finished import is returned
    as it is)."""
    InviteeImport.objects.filter(pk=import_id, state=InviteeImport.State.PENDING).update(
        state=InviteeImport.State.RUNNING
    )
    with transaction.atomic():
        # Only the import row: a lock on the webinar row would make every public-page
        # registration (its foreign-key check) wait for the import, and deadlock with it.
        job = (
            InviteeImport.objects.select_for_update(of=("self",))
            .select_related("webinar")
            .get(pk=import_id)
        )
        if job.finished:
            return job
        webinar = job.webinar
        outcome, imported = _load(job, webinar)
        job.rows, job.error_count = outcome.rows, outcome.error_count
        job.errors = [[line, message] for line, message in outcome.errors]
        job.imported = imported
        job.duplicates = outcome.rows - imported if not outcome.error_count else 0
        job.state = InviteeImport.State.REFUSED if outcome.error_count else InviteeImport.State.DONE
        job.finished_at = timezone.now()
        stored = job.file.name
        job.file = ""
        job.save()
        audit.record(
            f"registrants.import_{job.state}",
            job,
            actor=job.created_by,
            webinar=webinar,
            data={
                "rows": job.rows,
                "imported": job.imported,
                "duplicates": job.duplicates,
                "errors": job.error_count,
            },
        )
        if imported and send_links:
            wake_mailer(webinar)
    log.info("import %s: %s, committed %s", job.code, job.state, job.finished_at)
    if stored:
        job.file.storage.delete(stored)
    return job


def _load(job: InviteeImport, webinar: Webinar) -> tuple[Outcome, int]:
    # Read the regions now: once COPY has begun, the connection runs no other query.
    region_of = region_chooser(webinar)
    with connection.cursor() as cursor:
        # One import of a webinar at a time: two files sharing addresses would otherwise
        # wait on each other's rows, and could deadlock.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_import_lock(webinar)])
        try:
            with transaction.atomic():
                return _load_direct(job, webinar, cursor.cursor, region_of)
        except _Refused as refused:
            return refused.outcome, 0
        except UniqueViolation:
            # Someone registered on the public page, after the filter was read, with an
            # address this file also holds: the savepoint is gone, the slow path is exact.
            log.info("import %s: an address registered meanwhile, staging every row", job.code)
        return _load_staged(job, webinar, cursor.cursor, region_of)


class _Refused(Exception):
    """The file has a bad row: the rows already copied go with the savepoint."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.error_count)
        self.outcome = outcome


def _load_direct(
    job: InviteeImport, webinar: Webinar, cursor: Cursor[Any], region_of: Callable[[str], str]
) -> tuple[Outcome, int]:
    """COPY straight into the registrants while the file is being read, so PostgreSQL
    inserts and indexes while Python parses. A row whose address may have been seen (in
    an earlier row, or already registered: the Bloom filter says "maybe") is set aside
    in a spill file and goes in afterwards through `_insert_staged`'s ON CONFLICT, in
    file order, so the first row of an address still wins. A false "maybe" (under 1 %)
    only sends a new address the slow way."""
    outcome = Outcome()
    seen = Bloom(settings.ATTENDEE_IMPORT_MAX_ROWS + webinar.registrants.count(), SEEN_ERROR_RATE)
    seen.update(registered_emails(webinar))
    started = time.monotonic()
    fixed = f"\t{webinar.pk}\t{Registrant.Source.IMPORT}\t{timezone.now().isoformat()}\n"
    direct = 0
    with (
        job.file.open("rb") as stored,
        tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spill,
    ):
        with cursor.copy(
            "COPY events_registrant (name, email, country, region, webinar_id, source,"
            " created_at) FROM STDIN"
        ) as copy:
            buffer = io.StringIO()
            for line, name, email, country, region in _checked_rows(stored, region_of, outcome):
                if email in seen:
                    spill.write(f"{line}\t{name}\t{email}\t{country}\t{region}\n")
                    continue
                seen.add(email)
                direct += 1
                buffer.write(f"{name}\t{email}\t{country}\t{region}{fixed}")
                if buffer.tell() >= COPY_CHUNK:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            if outcome.error_count:
                raise _Refused(outcome)  # abandons the COPY
            copy.write(buffer.getvalue())
        log.info(
            "import %s: %d rows read, %d copied in %.1f s",
            job.code,
            outcome.rows,
            direct,
            time.monotonic() - started,
        )
        spill.seek(0)
        return outcome, direct + _insert_staged(job, webinar, cursor, spill)


def _load_staged(
    job: InviteeImport, webinar: Webinar, cursor: Cursor[Any], region_of: Callable[[str], str]
) -> tuple[Outcome, int]:
    """Every row through the staging table: exact whatever happens alongside."""
    outcome = Outcome()
    with (
        job.file.open("rb") as stored,
        tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spill,
    ):
        for line, name, email, country, region in _checked_rows(stored, region_of, outcome):
            spill.write(f"{line}\t{name}\t{email}\t{country}\t{region}\n")
        if outcome.error_count:
            return outcome, 0
        spill.seek(0)
        return outcome, _insert_staged(job, webinar, cursor, spill)


def _insert_staged(
    job: InviteeImport, webinar: Webinar, cursor: Cursor[Any], spill: IO[str]
) -> int:
    """COPY the spilled rows (COPY text lines with their file line first) into a staging
    table and move them in, in file order: a repeated address keeps its first row (later
    ones meet the conflict), and addresses already registered keep theirs."""
    started = time.monotonic()
    cursor.execute(
        "CREATE TEMPORARY TABLE IF NOT EXISTS invitee_staging (line integer, name text,"
        " email text, country text, region text) ON COMMIT DROP"
    )
    cursor.execute("TRUNCATE invitee_staging")
    with cursor.copy(
        "COPY invitee_staging (line, name, email, country, region) FROM STDIN"
    ) as copy:
        while block := spill.read(COPY_CHUNK):
            copy.write(block)
    # The sort (integers) runs in the database server's memory for this transaction.
    cursor.execute("SET LOCAL work_mem = '64MB'")
    cursor.execute(
        "INSERT INTO events_registrant (webinar_id, name, email, country, region, source,"
        " created_at)"
        " SELECT %s, name, email, country, region, %s, now()"
        " FROM invitee_staging ORDER BY line"
        " ON CONFLICT (webinar_id, email) DO NOTHING",
        [webinar.pk, Registrant.Source.IMPORT],
    )
    log.info(
        "import %s: %d staged rows inserted in %.1f s",
        job.code,
        cursor.rowcount,
        time.monotonic() - started,
    )
    return cursor.rowcount


def _import_lock(webinar: Webinar) -> int:
    digest = hashlib.sha256(f"invitee-import:{webinar.code}".encode()).hexdigest()
    return int(digest[:15], 16)


def _copy_text(value: str) -> str:
    # COPY's text format: backslash is the escape. Tabs and line breaks never get here
    # (names and emails refuse control characters), so only the backslash needs it.
    return value.replace("\\", "\\\\")


def _checked_rows(
    stored: IO[bytes], region_of: Callable[[str], str], outcome: Outcome
) -> Iterator[tuple[int, str, str, str, str]]:
    """(line, name, email, country, region) of the good rows, in file order, text already
    escaped for COPY; bad rows and file problems go into `outcome` (a file problem ends
    the reading). Once a row has failed nothing more is yielded: nothing will be imported,
    but the rest is still read so that every error is counted."""
    max_rows = settings.ATTENDEE_IMPORT_MAX_ROWS
    text = io.TextIOWrapper(stored, encoding="utf-8-sig", newline="")
    # The limit is the csv module's, process-wide: set for this file, restored after.
    previous_limit = csv.field_size_limit(FIELD_LIMIT)
    reader = csv.reader(text)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            outcome.add_error(reader.line_num or 1, AttendeeError("file_empty").message)
            return
        names = [cell.strip().lower() for cell in header]
        if "email" not in names or "name" not in names:
            found = ", ".join(n for n in names if n)[:100] or "no names"
            outcome.add_error(reader.line_num, AttendeeError("file_columns", found=found).message)
            return
        at_email, at_name = names.index("email"), names.index("name")
        at_country = names.index("country") if "country" in names else None
        width = len(names)
        for cells in reader:
            if not cells:
                continue  # a blank line
            outcome.rows += 1
            if outcome.rows > max_rows:
                outcome.add_error(
                    reader.line_num, AttendeeError("file_too_many_rows", max=max_rows).message
                )
                return
            if len(cells) != width:
                message = AttendeeError("row_columns", expected=width, found=len(cells)).message
                outcome.add_error(reader.line_num, message)
                continue
            try:
                email = clean_email(cells[at_email])
                name = clean_name(cells[at_name])
                country = (
                    clean_country(cells[at_country], required=False)
                    if at_country is not None
                    else ""
                )
            except AttendeeError as error:
                outcome.add_error(reader.line_num, error.message)
                continue
            if not outcome.error_count:  # once a row failed, nothing will be imported
                yield (
                    reader.line_num,
                    _copy_text(name),
                    _copy_text(email),
                    country,
                    region_of(country),
                )
    except UnicodeDecodeError:
        outcome.add_error(reader.line_num + 1, AttendeeError("file_not_text").message)
    except csv.Error as exc:
        detail = str(exc)[:80]
        outcome.add_error(
            reader.line_num or 1, AttendeeError("file_not_csv", detail=detail).message
        )
    finally:
        csv.field_size_limit(previous_limit)
