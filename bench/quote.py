"""Quote latency for the 1M package over 8 regions with 100 other webinars booked in the
next 90 days (a realistic ledger), through `webinars.selectors.quote_webinar`.

Baseline (same run): a bare `SELECT` of the same slot rows, i.e. the one query a quote
cannot avoid. RESULT p50_ms=.. p95_ms=..   (target: p95 < 50 ms)
"""

import os
import random
import time
from datetime import datetime, timedelta

from _common import percentile, seed_round_the_clock_roster, setup_django

SAMPLES = 300


def main() -> None:
    os.environ["MAX_UNPAID_HOLDS"] = "0"  # 100 holds by one organisation
    setup_django("bench_quote")
    seed_round_the_clock_roster()  # every hold needs an Event Services team
    from django.db import connection
    from django.utils import timezone

    from webinars import services
    from webinars.errors import BookingError
    from webinars.models import FleetSlot, Package, Region
    from webinars.rules import AUDIENCE_PRESETS, build_request
    from webinars.selectors import quote_webinar

    rng = random.Random(7)
    user = services.register_organiser(email="q@example.com", password="bench-password-1")
    org = services.create_organisation(
        user,
        actor=user,
        legal_name="Quote Org",
        address_line1="x",
        city="y",
        country="US",
        billing_email="b@example.com",
    )
    packages = list(Package.objects.exclude(code="1m"))
    presets = list(AUDIENCE_PRESETS)
    booked = 0
    now = timezone.now()
    while booked < 100:
        package = rng.choice(packages)
        start = now + timedelta(
            days=rng.randint(package.lead_time_days + 1, 90), minutes=15 * rng.randint(0, 95)
        )
        try:
            services.book_webinar(
                org,
                actor=user,
                title=f"other {booked}",
                package=package,
                start_local=start.replace(tzinfo=None),
                timezone_name="UTC",
                duration_minutes=rng.choice([60, 90, 120, 240]),
                preset=rng.choice(presets),
            )
            booked += 1
        except BookingError:
            continue
    one_m = Package.objects.get(code="1m")
    day = (now + timedelta(days=30)).date()
    starts = [
        datetime(day.year, day.month, day.day, 0, 0) + timedelta(minutes=15 * i)
        for i in range(96 * 20)
    ]

    timings: list[float] = []
    baseline: list[float] = []
    region_ids = list(Region.objects.values_list("id", flat=True))
    for _ in range(SAMPLES):
        start = rng.choice(starts)
        t0 = time.perf_counter()
        request = build_request(
            package=one_m,
            start_local=start,
            timezone_name="UTC",
            duration_minutes=240,
            preset="global",
        )
        quote = quote_webinar(request)
        timings.append((time.perf_counter() - t0) * 1000)
        assert quote.plan.total_nodes == 1074
        t0 = time.perf_counter()
        list(
            FleetSlot.objects.filter(
                region_id__in=region_ids,
                slot_start__gte=start,
                slot_start__lt=start + timedelta(hours=6),
            ).values_list("region_id", "slot_start", "capacity", "used")
        )
        baseline.append((time.perf_counter() - t0) * 1000)
    rows = FleetSlot.objects.count()
    connection.close()
    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    b50 = percentile(baseline, 50)
    print(f"ledger rows={rows} other webinars={booked} samples={SAMPLES}")
    print(f"quote: p50={p50:.2f} ms p95={p95:.2f} ms max={max(timings):.2f} ms")
    print(
        f"baseline (bare slot SELECT): p50={b50:.2f} ms; quote/baseline p50 ratio={p50 / b50:.1f}"
    )
    print(f"RESULT p50_ms={p50:.2f} p95_ms={p95:.2f} baseline_p50_ms={b50:.2f}")


if __name__ == "__main__":
    main()
