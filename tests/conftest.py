"""Shared fixtures: an organiser with an organisation, a staff user, and an outsider who
belongs to another organisation (healthchecks' alice/bob/charlie)."""

import importlib
import os
import threading
from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from django.utils import timezone

from config.celery import app as celery_app
from webinars import services
from webinars.models import Package, Region, User


@pytest.fixture(autouse=True)
def _fast_and_eager(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MAX_UNPAID_HOLDS = 0  # tests that check the limit set it themselves
    # Tasks run inline unless a test starts a real worker.
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


STANDBY_SIZE = 60


def seed_standby_roster(size: int = STANDBY_SIZE) -> None:
    """Event Services staff who fill every role around the clock (24-hour shifts in UTC),
    enough that no test which is not about staffing runs out of people: the staffing
    check is always on, so every booking in the suite gets a real team."""
    from events.models import StaffMember, StaffRole, WeeklyShift

    users = User.objects.bulk_create(
        User(email=f"standby{i}@megawebinar.example", password="!", is_staff=True)
        for i in range(size)
    )
    members = StaffMember.objects.bulk_create(
        StaffMember(
            user=user,
            display_name=f"Standby {i:02d}",
            roles=list(StaffRole.values),
            languages=["en"],
            time_zone="UTC",
        )
        for i, user in enumerate(users)
    )
    midnight = time(0, 0)
    WeeklyShift.objects.bulk_create(
        WeeklyShift(staff=member, weekday=day, starts=midnight, ends=midnight)
        for member in members
        for day in range(7)
    )


@pytest.fixture(autouse=True)
def _standby_roster(request):
    """Seeds the standby roster for every test that uses the database, unless it is
    marked `own_roster` (the staffing tests build the roster they are about)."""
    uses_db = request.node.get_closest_marker("django_db") or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if not uses_db or request.node.get_closest_marker("own_roster"):
        return
    request.getfixturevalue("transactional_db" if _transactional(request) else "db")
    seed_standby_roster()


def _transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(
        (marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
        or {"transactional_db", "live_server"} & set(request.fixturenames)
    )


def make_organiser(email: str, legal_name: str, country: str = "US") -> User:
    user = services.register_organiser(email=email, password="correct-horse-battery")
    services.create_organisation(
        user,
        actor=user,
        legal_name=legal_name,
        address_line1="1 Main Street",
        city="Springfield",
        postal_code="12345",
        country=country,
        billing_email=f"billing@{legal_name.split()[0].lower()}.example",
    )
    return User.objects.get(pk=user.pk)


@pytest.fixture
def organiser(db) -> User:
    return make_organiser("alice@acme.example", "Acme Campaigns Inc")


@pytest.fixture
def outsider(db) -> User:
    return make_organiser("charlie@rival.example", "Rival Media LLC")


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(
        email="bob@megawebinar.example",
        password="correct-horse-battery",
        is_staff=True,
        is_superuser=True,
    )


@pytest.fixture
def catalogue(db) -> None:
    """The data migrations' packages, regions and staff group; transactional tests flush
    them, so they are loaded again (idempotently) here."""
    from django.apps import apps

    importlib.import_module("webinars.migrations.0002_catalogue").load(apps, None)
    importlib.import_module("webinars.migrations.0003_event_services_group").create(apps, None)


@pytest.fixture
def package_10k(catalogue) -> Package:
    return Package.objects.get(code="10k")


@pytest.fixture
def package_1m(catalogue) -> Package:
    return Package.objects.get(code="1m")


@pytest.fixture
def us_east(catalogue) -> Region:
    return Region.objects.get(code="us-east")


def local_start(days: int = 20, hour: int = 15, tz: str = "America/New_York") -> datetime:
    """A naive local start `days` ahead at `hour`:00, as an organiser types it."""
    day = (timezone.now().astimezone(ZoneInfo(tz)) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, 0)


def hold(user: User, package: Package, **overrides):
    params = {
        "title": "Launch keynote",
        "package": package,
        "start_local": local_start(),
        "timezone_name": "America/New_York",
        "duration_minutes": 90,
        "preset": "custom",
        "custom_split": {"us-east": 10000},
    } | overrides
    return services.book_webinar(user.membership.organisation, actor=user, **params)


def race(count: int, attempt: Callable[[int], str]) -> list[str]:
    """Run `attempt(i)` in `count` threads released at once, each on its own database
    connection; returns their outcomes (an unexpected exception becomes "error: ...")."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def contender(i: int) -> None:
        try:
            barrier.wait()
            result = attempt(i)
        except Exception as exc:
            result = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def pytest_sessionfinish(session, exitstatus) -> None:
    """In CI every real part must run: a skipped test fails the run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CI") == "true" and skipped and exitstatus == 0:
        reporter.write_line(f"CI=true: {skipped} skipped test(s) count as failures", red=True)
        session.exitstatus = 1
