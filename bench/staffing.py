"""Hold and confirm 500 webinars spread over a quarter (mixed packages, clustered at
popular hours) with 60 Event Services staff of mixed roles and time zones, through the
real services on PostgreSQL. The fleet is made large enough never to refuse, so staff are
the only constraint measured.

seconds      wall time of the 500 holds with the staff check, and the confirmations
booked_pct   share of requested webinars that got a hold with a full team
bound_pct    an upper bound for the same requests, computed independently of the assigner
             (from the roster itself, per set of roles and 15-minute slot): the seats of
             the requests covering a slot against the members who could take them (on
             shift and not on leave for a whole window among those requests), once for
             the windows and once for the windows with the rest after them; a request that
             does not fit alone is dropped, and in each group of overlapping requests at
             least ceil(excess / the most seats one request has) must go (see
             bench/_staffing_view.py). It ignores that requests arrive one by one, so it
             is >= any assigner's result.
violations   overlaps of active assignments (rest included), assignments outside the
             member's shifts or during their time off, and confirmed bookings missing a role
hold_ratio   holds/s with the staff check / holds/s without it, the same requests in the
             same run, interleaved one by one so both see the same database size

RESULT webinars=500 seconds=.. booked_pct=.. bound_pct=.. violations=0 hold_ratio=..
(targets: violations 0, booked_pct within 5 points of bound_pct, hold_ratio >= 0.7)
"""

import contextlib
import os
import random
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from datetime import time as clock

from _common import setup_django
from _staffing_view import count_violations, roster_view, upper_bound

WEBINARS = int(os.environ.get("BENCH_WEBINARS", "500"))
STAFF = 60
SEED = 10
ZONES = (
    "America/New_York", "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo",
    "Europe/London", "Europe/Berlin", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo",
    "Australia/Sydney",
)  # fmt: skip
# Roles by head count (60): some people fill two roles.
ROLE_MIX = (
    ["producer"] * 13 + ["technical_lead"] * 11 + ["moderator"] * 24 + ["stream_engineer"] * 12
)
PACKAGE_MIX = (("10k", 34), ("50k", 24), ("100k", 18), ("250k", 12), ("500k", 7), ("1m", 5))
COUNTRIES = ("US", "DE", "BR", "GB", "JP", "FR")


def build_roster(rng: random.Random, start: datetime) -> None:
    from events.models import StaffMember, TimeOff, WeeklyShift
    from webinars.models import User

    roles = list(ROLE_MIX)
    rng.shuffle(roles)
    others = ("producer", "technical_lead", "moderator", "stream_engineer")
    for i, role in enumerate(roles):
        zone = ZONES[i % len(ZONES)]
        member_roles = [role]
        if rng.random() < 0.3:
            extra = rng.choice([r for r in others if r != role])
            member_roles.append(extra)
        user = User.objects.create_user(email=f"staff{i}@bench.example", is_staff=True)
        member = StaffMember.objects.create(
            user=user,
            display_name=f"Staff {i:02d}",
            roles=member_roles,
            languages=rng.sample(["en", "de", "pt", "fr", "ja", "es"], 2),
            time_zone=zone,
        )
        # Day shifts of 8 to 11 hours on weekdays, some weekend and some evening shifts.
        first = rng.choice([6, 7, 8, 9, 10, 12, 14])
        length = rng.choice([8, 9, 10, 11])
        days = list(range(5)) + ([5, 6] if rng.random() < 0.35 else [])
        ends = (first + length) % 24
        WeeklyShift.objects.bulk_create(
            WeeklyShift(staff=member, weekday=d, starts=clock(first), ends=clock(ends))
            for d in days
        )
        if rng.random() < 0.3:  # a week of leave somewhere in the quarter
            leave = start + timedelta(days=rng.randint(0, 85))
            TimeOff.objects.create(staff=member, starts_at=leave, ends_at=leave + timedelta(days=7))


def build_requests(rng: random.Random, start: datetime) -> list[dict]:
    codes = [code for code, weight in PACKAGE_MIX for _ in range(weight)]
    requests = []
    for _ in range(WEBINARS):
        day = start + timedelta(days=rng.randint(0, 89))
        if rng.random() < 0.6:  # popular: US morning / European afternoon
            hour, minute = rng.choice([13, 14, 15, 16, 17]), rng.choice([0, 30])
        else:
            hour, minute = rng.randint(0, 23), rng.choice([0, 15, 30, 45])
        requests.append(
            {
                "package": rng.choice(codes),
                "start": day.replace(hour=hour, minute=minute, tzinfo=None),
                "duration": rng.choice([60, 90, 120, 180]),
                "country": rng.choice(COUNTRIES),
            }
        )
    return requests


def main() -> None:
    os.environ["MAX_UNPAID_HOLDS"] = "0"  # one organisation places many holds here
    setup_django("bench_staffing")
    from django.db import connection

    from webinars import capacity_checks, services
    from webinars.errors import BookingError
    from webinars.models import Organisation, Package, Region

    rng = random.Random(SEED)
    Region.objects.update(fleet_size=1_000_000)  # staff are the only constraint here
    now = datetime.now(UTC)
    start = (now + timedelta(days=15)).replace(hour=0, minute=0, second=0, microsecond=0)
    build_roster(rng, start)
    requests = build_requests(rng, start)
    packages = {p.code: p for p in Package.objects.all()}
    orgs: dict[str, tuple[Organisation, object]] = {}
    for country in (*COUNTRIES, "ZZ"):
        user = services.register_organiser(
            email=f"org-{country.lower()}@bench.example", password="bench-password-1"
        )
        org = services.create_organisation(
            user,
            actor=user,
            legal_name=f"Bench {country}",
            address_line1="1 Main St",
            city="Springfield",
            country=country if country != "ZZ" else "US",
            billing_email=f"billing-{country.lower()}@bench.example",
        )
        orgs[country] = (org, user)
    checks = list(capacity_checks.CHECKS)
    assert checks, "the Event Services check is registered by EventsConfig.ready()"

    def place(r: dict, org: Organisation, user: object, title: str):
        return services.book_webinar(
            org,
            actor=user,
            title=title,
            package=packages[r["package"]],
            start_local=r["start"],
            timezone_name="UTC",
            duration_minutes=r["duration"],
            preset="global",
        )

    # A warm ledger: the quarter's fleet slots exist, as they do once it has been on sale
    # for a while. Otherwise the first hold of each pair below pays for creating them and
    # the second finds them, which would bias the ratio by the order of the pair.
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO webinars_fleetslot (region_id, slot_start, capacity, used)
               SELECT r.id, gs, r.fleet_size, 0 FROM webinars_region r
               CROSS JOIN generate_series(%s::timestamptz, %s::timestamptz, '15 minutes') gs
               ON CONFLICT (region_id, slot_start) DO NOTHING""",
            [start - timedelta(days=2), start + timedelta(days=93)],
        )
        cursor.execute("ANALYZE")
    # Warm-up outside the measured window (query compilation, connection set-up).
    warm = dict(requests[0], start=requests[0]["start"] + timedelta(days=200))
    capacity_checks.CHECKS[:] = []
    place(warm, *orgs["ZZ"], "warm-up")
    capacity_checks.CHECKS[:] = checks

    with_check = without_check = 0.0
    booked: list = []
    t_run = time.perf_counter()
    for i, r in enumerate(requests):
        org, user = orgs[r["country"]]
        t0 = time.perf_counter()
        with contextlib.suppress(BookingError):
            booked.append(place(r, org, user, f"bench {i}"))
        with_check += time.perf_counter() - t0
        # The same request without the staff check (another organisation, same database).
        capacity_checks.CHECKS[:] = []
        t0 = time.perf_counter()
        place(r, *orgs["ZZ"], f"floor {i}")
        without_check += time.perf_counter() - t0
        capacity_checks.CHECKS[:] = checks
    t_confirm = time.perf_counter()
    for webinar in booked:
        services.confirm_booking(webinar, actor=None)
    confirm_s = time.perf_counter() - t_confirm
    seconds = with_check + confirm_s
    wall = time.perf_counter() - t_run

    roster = roster_view()
    needs = {code: {k: int(v) for k, v in p.staff_roles.items()} for code, p in packages.items()}
    bound = upper_bound(requests, roster, needs)
    violations = count_violations(roster)
    connection.close()

    n = len(requests)
    booked_pct = 100 * len(booked) / n
    bound_pct = 100 * bound / n
    hold_ratio = (n / with_check) / (n / without_check)
    by_package: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in requests:
        by_package[r["package"]][1] += 1
    for w in booked:
        by_package[w.package.code][0] += 1
    print(f"staff={STAFF} webinars requested={n} booked={len(booked)} upper bound={bound}")
    print(
        "by package (booked/requested): "
        + ", ".join(f"{c} {b}/{t}" for c, (b, t) in sorted(by_package.items()))
    )
    print(
        f"holds/s with staff check={n / with_check:.1f} without={n / without_check:.1f}; "
        f"confirm {len(booked)} in {confirm_s:.2f} s; run wall time {wall:.1f} s"
    )
    print(f"violations: {violations}")
    print(
        f"RESULT webinars={n} seconds={seconds:.2f} booked_pct={booked_pct:.1f} "
        f"bound_pct={bound_pct:.1f} violations={sum(violations.values())} "
        f"hold_ratio={hold_ratio:.2f}"
    )


if __name__ == "__main__":
    main()
