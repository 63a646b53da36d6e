"""Shared set-up for benchmarks: a scratch database next to the one DATABASE_URL names
(created fresh, migrated, dropped at exit), then Django configured against it."""

import atexit
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def scratch_database(name: str) -> str:
    import psycopg

    url = os.environ["DATABASE_URL"]
    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    atexit.register(drop)
    return urlunsplit(parts._replace(path=f"/{name}"))


def setup_django(db_name: str) -> str:
    url = scratch_database(db_name)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return url


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def seed_round_the_clock_roster(size: int = 40) -> None:
    """Event Services staff who fill every role around the clock (24-hour shifts in UTC):
    every hold needs a team, and benchmarks that are not about staffing should not run
    out of people (bench/staffing.py measures the staffing itself)."""
    from datetime import time

    from events.models import StaffMember, StaffRole, WeeklyShift
    from webinars.models import User

    users = User.objects.bulk_create(
        User(email=f"roster{i}@bench.example", password="!", is_staff=True) for i in range(size)
    )
    members = StaffMember.objects.bulk_create(
        StaffMember(
            user=user,
            display_name=f"Roster {i:02d}",
            roles=list(StaffRole.values),
            languages=["en"],
            time_zone="UTC",
        )
        for i, user in enumerate(users)
    )
    WeeklyShift.objects.bulk_create(
        WeeklyShift(staff=m, weekday=d, starts=time(0), ends=time(0))
        for m in members
        for d in range(7)
    )
