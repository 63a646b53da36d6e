"""Invitee import from CSV: all or nothing, errors by line number, duplicates in the file
and against registrants already there, files that are not CSV at all, and the worker path
for large files."""

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.utils.timezone import now

from events.models import InviteeImport, Registrant
from events.services import invitees
from tests.events.registration_helpers import confirmed_webinar, fast_mail
from webinars.models import AuditEntry

S = InviteeImport.State


@pytest.fixture(autouse=True)
def _mail(settings, tmp_path):
    fast_mail(settings)
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def webinar(organiser, package_10k):
    return confirmed_webinar(organiser, package_10k)


def _import(webinar, content: bytes | str, *, actor=None, name="invitees.csv", **kwargs):
    if isinstance(content, str):
        content = content.encode()
    return invitees.start_import(
        webinar, actor=actor, upload=ContentFile(content, name=name), filename=name, **kwargs
    )


def test_a_good_file_imports_every_row_once_in_file_order(
    webinar, organiser, django_capture_on_commit_callbacks
):
    Registrant.objects.create(
        webinar=webinar, name="Already Here", email="existing@example.org", link_sent_at=now()
    )
    csv_text = (
        "Email,Name,Country\r\n"
        "ann@example.org,Ann Perkins,US\r\n"
        "ben@example.org,Ben Wyatt,de\r\n"
        "\r\n"
        "ANN@example.org,Ann Again,FR\r\n"  # repeated in the file: the first row wins
        "existing@example.org,Someone Else,GB\r\n"  # already registered: kept as it was
        'chris@example.org,"Traeger, Chris",\r\n'  # no country: the main region
        "dee@example.org,Back \\ Slash\tTab,IE\r\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = _import(webinar, csv_text, actor=organiser)
    assert job.state == S.DONE
    assert (job.rows, job.imported, job.duplicates, job.error_count) == (6, 4, 2, 0)
    rows = {r.email: r for r in Registrant.objects.filter(webinar=webinar)}
    assert rows["ann@example.org"].name == "Ann Perkins"
    assert rows["existing@example.org"].name == "Already Here"
    assert (rows["ben@example.org"].country, rows["ben@example.org"].region) == ("DE", "eu-central")
    assert (rows["chris@example.org"].name, rows["chris@example.org"].region) == (
        "Traeger, Chris",
        "us-east",
    )
    assert rows["dee@example.org"].name == "Back \\ Slash Tab"
    assert all(
        r.source == Registrant.Source.IMPORT for e, r in rows.items() if e != "existing@example.org"
    )
    # The links go out to the new invitees (the existing registrant had theirs already).
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["ann@example.org", "ben@example.org", "chris@example.org", "dee@example.org"]
    )
    entry = AuditEntry.objects.get(webinar=webinar, action="registrants.import_done")
    assert entry.data == {"rows": 6, "imported": 4, "duplicates": 2, "errors": 0}
    assert not job.file  # the stored upload is gone


def test_a_file_with_bad_rows_imports_nothing_and_lists_them_by_line(webinar):
    csv_text = (
        "email,name,country\n"
        "ann@example.org,Ann Perkins,US\n"
        "not-an-address,Bob,US\n"
        "carl@example.org,,US\n"
        "dora@example.org,Dora,Atlantis\n"
        "erin@example.org,Erin\n"
        'fay@example.org,"Fay\nWray",US\n'
        "gus@example.org,Gus,US\n"
    )
    job = _import(webinar, csv_text)
    assert job.state == S.REFUSED
    assert not Registrant.objects.filter(webinar=webinar).exists()
    assert job.error_count == 4 and job.imported == 0
    lines = [line for line, _ in job.errors]
    assert lines == [3, 4, 5, 6]
    messages = dict(job.errors)
    assert "valid email" in messages[3]
    assert "name" in messages[4].lower()
    assert "Atlantis" in messages[5]
    assert "Expected 3 values, found 2" in messages[6]
    # Line 7-8 hold one record whose name spans two lines: the name is cleaned, not refused.
    assert AuditEntry.objects.filter(webinar=webinar, action="registrants.import_refused").exists()


def test_only_the_first_errors_are_kept_but_all_are_counted(webinar, settings):
    settings.ATTENDEE_IMPORT_SHOWN_ERRORS = 5
    rows = "".join(f"bad{i},Name,US\n" for i in range(40))
    job = _import(webinar, "email,name,country\n" + rows)
    assert job.error_count == 40 and len(job.errors) == 5
    assert [line for line, _ in job.errors] == [2, 3, 4, 5, 6]
    assert not Registrant.objects.exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b"\n\n", "empty"),
        (b"id,phone\n1,555\n", "needs the columns email and name"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x04\x00" * 50, "not UTF-8"),
        (b"email,name\nann@example.org,\xff\xfe oops\n", "not UTF-8"),
        (b'email,name\nann@example.org,"' + b"x" * 5000 + b'"\n', "not a CSV file"),
        (b"email,name\nann\x00@example.org,Ann\n", "valid email"),
    ],
)
def test_a_file_that_is_not_an_invitee_csv_is_refused_with_a_clear_message(
    webinar, content, expected
):
    job = _import(webinar, content)
    assert job.state == S.REFUSED and job.error_count >= 1
    assert expected in job.errors[0][1]
    assert not Registrant.objects.exists()


def test_too_many_rows_are_refused(webinar, settings):
    settings.ATTENDEE_IMPORT_MAX_ROWS = 3
    rows = "".join(f"guest{i}@example.org,Guest {i},US\n" for i in range(4))
    job = _import(webinar, "email,name,country\n" + rows)
    assert job.state == S.REFUSED
    assert "more than 3 invitees" in job.errors[-1][1]
    assert not Registrant.objects.exists()


def test_a_large_file_goes_to_a_worker_and_a_redelivery_changes_nothing(
    webinar, settings, django_capture_on_commit_callbacks
):
    settings.ATTENDEE_IMPORT_SYNC_MAX_BYTES = 10
    rows = "".join(f"guest{i}@example.org,Guest {i},US\n" for i in range(50))
    with django_capture_on_commit_callbacks(execute=True):
        job = _import(webinar, "email,name,country\n" + rows, send_links=False)
    job.refresh_from_db()
    assert job.state == S.DONE and job.imported == 50
    again = invitees.run_import(job.pk)
    assert (again.state, again.imported) == (S.DONE, 50)
    assert Registrant.objects.filter(webinar=webinar).count() == 50
    assert mail.outbox == []  # links held back: the organiser sends them later


def test_only_a_confirmed_booking_takes_imports(organiser, package_10k):
    from events.errors import AttendeeError
    from tests.conftest import hold

    webinar = hold(organiser, package_10k)
    with pytest.raises(AttendeeError) as error:
        _import(webinar, "email,name\nann@example.org,Ann\n")
    assert error.value.http_status == 409
    assert not InviteeImport.objects.exists()
