"""The invitee import's two paths give the same registrants: rows the Bloom filter calls
"maybe seen" (repeats, addresses already registered, and its false alarms) take the
staging table, everything else the direct COPY; a unique violation in the COPY (someone
registered meanwhile) falls back to staging every row. Also under real concurrency:
imports of one webinar take turns, and a registration racing an import is one row."""

import logging

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from events.models import InviteeImport, Registrant
from events.services import invitees
from tests.conftest import race
from tests.events.registration_helpers import confirmed_webinar, fast_mail, open_webinar, register

S = InviteeImport.State

GOOD_FILE = (
    "email,name,country\n"
    "ann@example.org,Ann Perkins,US\n"
    "existing@example.org,Someone Else,GB\n"  # already registered: kept as it was
    "ben@example.org,Ben Wyatt,DE\n"
    "ANN@example.org,Ann Again,FR\n"  # repeated in the file: the first row wins
    "cleo@example.org,Cleo Back\\slash,IE\n"
    "ben@example.org,Ben Again,US\n"
)


@pytest.fixture(autouse=True)
def _mail(settings, tmp_path):
    fast_mail(settings)
    settings.MEDIA_ROOT = tmp_path


def _import(webinar, content: str, name: str = "invitees.csv") -> InviteeImport:
    return invitees.start_import(
        webinar,
        actor=None,
        upload=ContentFile(content.encode(), name=name),
        filename=name,
        send_links=False,
    )


class _AlwaysMaybe:
    """A filter that has "maybe seen" every address: the worst false-alarm rate."""

    def __init__(self, *args: object) -> None:
        pass

    def update(self, emails) -> None:
        list(emails)

    def add(self, email: str) -> None:
        pass

    def __contains__(self, email: str) -> bool:
        return True


def _registered_meanwhile(webinar):
    """The filter is read as if the existing registrant had not committed yet: they
    signed up on the public page between the filter's read and the COPY."""
    return iter(())


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["direct", "every_row_maybe_seen", "registered_meanwhile"])
def test_every_path_imports_the_same_registrants(organiser, package_10k, monkeypatch, caplog, path):
    webinar = confirmed_webinar(organiser, package_10k)
    Registrant.objects.create(webinar=webinar, name="Already Here", email="existing@example.org")
    if path == "every_row_maybe_seen":
        monkeypatch.setattr(invitees, "Bloom", _AlwaysMaybe)
    if path == "registered_meanwhile":
        monkeypatch.setattr(invitees, "registered_emails", _registered_meanwhile)
    with caplog.at_level(logging.INFO, logger="events.services.invitees"):
        job = _import(webinar, GOOD_FILE)
    assert job.state == S.DONE
    assert (job.rows, job.imported, job.duplicates) == (6, 3, 3)
    rows = {r.email: r.name for r in Registrant.objects.filter(webinar=webinar)}
    assert rows == {
        "existing@example.org": "Already Here",
        "ann@example.org": "Ann Perkins",
        "ben@example.org": "Ben Wyatt",
        "cleo@example.org": "Cleo Back\\slash",
    }
    fell_back = "staging every row" in caplog.text
    assert fell_back == (path == "registered_meanwhile")


@pytest.mark.django_db
def test_a_bad_row_after_copied_rows_leaves_nothing_behind_and_the_import_is_recorded(
    organiser, package_10k, settings
):
    settings.ATTENDEE_IMPORT_SYNC_MAX_BYTES = 10 << 20  # in the test's process
    webinar = confirmed_webinar(organiser, package_10k)
    # Over a megabyte of good rows: COPY has received some before the bad row stops it.
    good = "".join(f"guest{i}@example.org,Guest Number {i},US\n" for i in range(30_000))
    job = _import(webinar, "email,name,country\n" + good + "broken,Name,US\n")
    assert job.state == S.REFUSED
    assert job.errors == [[30_002, job.errors[0][1]]] and "valid email" in job.errors[0][1]
    assert not Registrant.objects.filter(webinar=webinar).exists()
    job.refresh_from_db()
    assert job.state == S.REFUSED and job.imported == 0
    # The transaction is usable after the abandoned COPY: the next import goes in.
    again = _import(webinar, "email,name,country\n" + good)
    assert (again.state, again.imported) == (S.DONE, 30_000)


@pytest.mark.django_db
def test_one_address_a_thousand_times_is_one_registrant(organiser, package_10k):
    webinar = confirmed_webinar(organiser, package_10k)
    rows = "".join(f"same@example.org,Name {i},US\n" for i in range(1000))
    job = _import(webinar, "email,name,country\n" + rows)
    assert (job.state, job.imported, job.duplicates) == (S.DONE, 1, 999)
    assert Registrant.objects.get(webinar=webinar).name == "Name 0"


def _advisory_locks_held() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_imports_of_one_webinar_with_shared_addresses_take_turns(organiser, package_10k):
    webinar = confirmed_webinar(organiser, package_10k)
    # Four files, each sharing half its addresses with the next, in opposite orders (the
    # pattern that deadlocks two bulk inserts that do not take turns).
    files = []
    for f in range(4):
        numbers = range(f * 10_000, f * 10_000 + 20_000)
        ordered = numbers if f % 2 else reversed(numbers)
        files.append(
            "email,name,country\n"
            + "".join(f"guest{n}@example.org,File {f} Guest {n},US\n" for n in ordered)
        )

    def importer(i: int) -> str:
        job = _import(webinar, files[i], name=f"file{i}.csv")
        return f"{job.state}:{job.imported}"

    outcomes = race(4, importer)
    assert all(o.startswith("done:") for o in outcomes), outcomes
    assert sum(int(o.split(":")[1]) for o in outcomes) == 50_000
    assert Registrant.objects.filter(webinar=webinar).count() == 50_000
    assert _advisory_locks_held() == 0  # the advisory locks went with their transactions


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_registrations_racing_an_import_are_one_row_per_address(organiser, package_10k):
    webinar = open_webinar(organiser, package_10k)
    rows = "".join(f"guest{n}@example.org,Imported {n},US\n" for n in range(2000))

    def contender(i: int) -> str:
        if i == 0:
            job = _import(webinar, "email,name,country\n" + rows)
            return f"{job.state}:{job.imported}"
        register(webinar, f"guest{i * 150}@example.org", name=f"Signed Up {i}")
        return "registered"

    outcomes = race(8, contender)
    assert sorted(outcomes)[0].startswith("done:"), outcomes
    assert outcomes.count("registered") == 7
    imported = int(next(o for o in outcomes if o.startswith("done:")).split(":")[1])
    registrants = Registrant.objects.filter(webinar=webinar)
    assert registrants.count() == 2000
    # Every address once: the 7 sign-ups either came first (the import skipped them) or
    # found the imported row (the page answers the same either way).
    signed_up = registrants.filter(name__startswith="Signed Up").count()
    assert imported + signed_up == 2000
