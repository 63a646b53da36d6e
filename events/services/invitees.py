"""Invitee import: a CSV file of up to ATTENDEE_IMPORT_MAX_ROWS people, all or nothing.

The file is read once, as a stream (csv over a text wrapper over the stored file, never a
list), each row checked by the registration form's rules and, when good, written straight
into a temporary staging table through psycopg's COPY. If any row is bad, the transaction
ends without touching the registrants: the organiser gets the first ATTENDEE_IMPORT_SHOWN_ERRORS
errors (line numbers as a spreadsheet shows them) and the count. Otherwise one
`INSERT ... SELECT ... ON CONFLICT (webinar, email) DO NOTHING` moves the rows in, in file
order, so a repeated address keeps its first row and addresses already registered keep
theirs. Memory stays flat: the only things that grow are the error list (capped) and the
country -> region memo (a few hundred entries).

Small files (up to ATTENDEE_IMPORT_SYNC_MAX_BYTES) are imported in the request; larger
ones by a Celery task (`events.tasks.import_invitees_task`) while the result page polls.
The whole import runs in one transaction holding the import's row lock, so a redelivered
task waits for a running one and then finds it finished.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone

from events.errors import AttendeeError
from events.models import InviteeImport, Registrant
from events.selectors.attendees import region_chooser
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
        job = InviteeImport.objects.select_for_update().select_related("webinar").get(pk=import_id)
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
    outcome = Outcome()
    # Read the regions now: once COPY has begun, the connection runs no other query.
    region_of = region_chooser(webinar)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE invitee_staging (line integer, name text, email text,"
            " country text, region text) ON COMMIT DROP"
        )
        with (
            job.file.open("rb") as stored,
            cursor.cursor.copy(
                "COPY invitee_staging (line, name, email, country, region) FROM STDIN"
            ) as copy,
        ):
            buffer = io.StringIO()
            for line in _staging_lines(stored, region_of, outcome):
                buffer.write(line)
                if buffer.tell() >= COPY_CHUNK:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        staged = time.monotonic()
        log.info(
            "import %s: %d rows read and staged in %.1f s", job.code, outcome.rows, staged - started
        )
        if outcome.error_count:
            return outcome, 0
        # Rows go in in file order, so the first row of a repeated address wins (the later
        # ones meet the conflict). The sort (integers) runs in the database server's memory
        # for this transaction, not on disk.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(
            "INSERT INTO events_registrant (webinar_id, name, email, country, region,"
            " consent_at, source, link_sent_at, created_at)"
            " SELECT %s, name, email, country, region, NULL, %s, NULL, now()"
            " FROM invitee_staging ORDER BY line"
            " ON CONFLICT (webinar_id, email) DO NOTHING",
            [webinar.pk, Registrant.Source.IMPORT],
        )
        log.info(
            "import %s: %d rows inserted in %.1f s",
            job.code,
            cursor.rowcount,
            time.monotonic() - staged,
        )
        return outcome, cursor.rowcount


def _copy_text(value: str) -> str:
    # COPY's text format: backslash is the escape. Tabs and line breaks never get here
    # (names and emails refuse control characters), so only the backslash needs it.
    return value.replace("\\", "\\\\")


def _staging_lines(
    stored: io.IOBase, region_of: Callable[[str], str], outcome: Outcome
) -> Iterator[str]:
    """COPY lines of the good rows, in file order; bad rows and file problems go into
    `outcome` (a file problem ends the reading)."""
    max_rows = settings.ATTENDEE_IMPORT_MAX_ROWS
    text = io.TextIOWrapper(stored, encoding="utf-8-sig", newline="")  # type: ignore[arg-type]
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
                    f"{reader.line_num}\t{_copy_text(name)}\t{_copy_text(email)}\t"
                    f"{country}\t{region_of(country)}\n"
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
