"""32 concurrent buyers place holds against one region until it is full.

Compares holds/s through `webinars.services.book_webinar` (validation, sizing, booking row,
reservations, audit row, ordered slot locks) with the floor: the same slot updates as raw
SQL, one transaction per hold, at the same concurrency on the same database. Buyers are
processes (not threads) so Python's GIL does not distort either side.

RESULT holds_per_s=.. floor_per_s=.. ratio=.. oversold=0   (target: ratio >= 0.5)
"""

import multiprocessing as mp
import os
import time
from datetime import datetime, timedelta

from _common import setup_django

BUYERS = int(os.environ.get("BENCH_BUYERS", "32"))
HOLDS_THAT_FIT = 2400  # 13 nodes per 10k hold
NODES = 13


def _start() -> datetime:
    day = (datetime.now() + timedelta(days=20)).date()
    return datetime(day.year, day.month, day.day, 15, 0)


def service_buyer(
    org_id: int, user_id: int, barrier: "mp.synchronize.Barrier", out: "mp.Queue"
) -> None:
    from django.db import connections

    from webinars import capacity_checks, services
    from webinars.errors import CapacityError
    from webinars.models import Organisation, Package, User

    connections.close_all()
    # The fleet ledger alone: 2,400 holds in one hour would need 2,400 Event Services
    # people; bench/staffing.py measures the staff check.
    capacity_checks.CHECKS[:] = []
    organisation = Organisation.objects.get(pk=org_id)
    user = User.objects.get(pk=user_id)
    package = Package.objects.get(code="10k")
    ok = 0
    # One warm-up hold elsewhere (eu-west) so first-call costs (query compilation,
    # connection set-up) stay out of the measured window, as they do for the floor.
    services.book_webinar(
        organisation,
        actor=user,
        title="warm-up",
        package=package,
        start_local=_start(),
        timezone_name="UTC",
        duration_minutes=90,
        preset="custom",
        custom_split={"eu-west": 10000},
    )
    barrier.wait()
    while True:
        try:
            services.book_webinar(
                organisation,
                actor=user,
                title="bench",
                package=package,
                start_local=_start(),
                timezone_name="UTC",
                duration_minutes=90,
                preset="custom",
                custom_split={"us-east": 10000},
            )
            ok += 1
        except CapacityError:
            break
    out.put(ok)


def floor_buyer(
    url: str,
    region_id: int,
    slot_from: datetime,
    slot_until: datetime,
    barrier: "mp.synchronize.Barrier",
    out: "mp.Queue",
) -> None:
    import psycopg

    ok = 0
    with psycopg.connect(url) as conn:
        barrier.wait()
        while True:
            with conn.transaction():
                cur = conn.execute(
                    "UPDATE webinars_fleetslot SET used = used + %s WHERE region_id = %s "
                    "AND slot_start >= %s AND slot_start < %s AND used + %s <= capacity",
                    [NODES, region_id, slot_from, slot_until, NODES],
                )
                done = cur.rowcount > 0
            if not done:
                break
            ok += 1
    out.put(ok)


def run(target, args_for) -> tuple[int, float]:
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(BUYERS + 1)
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args_for, barrier, out)) for _ in range(BUYERS)]
    for p in procs:
        p.start()
    barrier.wait()
    t0 = time.perf_counter()
    total = sum(out.get(timeout=300) for _ in procs)
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join(timeout=60)
    return total, elapsed


def main() -> None:
    os.environ["MAX_UNPAID_HOLDS"] = "0"  # one organisation places every hold here
    url = setup_django("bench_holds")
    from django.db import connections
    from django.db.models import Max

    from webinars import services
    from webinars.models import FleetSlot, Region, Webinar

    Region.objects.filter(code="us-east").update(fleet_size=NODES * HOLDS_THAT_FIT)
    user = services.register_organiser(email="bench@example.com", password="bench-password-1")
    org = services.create_organisation(
        user,
        actor=user,
        legal_name="Bench Org",
        address_line1="x",
        city="y",
        country="US",
        billing_email="b@example.com",
    )
    connections.close_all()

    holds, t_service = run(service_buyer, (org.pk, user.pk))
    region = Region.objects.get(code="us-east")
    slots = FleetSlot.objects.filter(region=region)
    oversold = slots.filter(used__gt=region.fleet_size).count()
    in_region = Webinar.objects.filter(audience_split__has_key="us-east").count()
    assert holds == in_region == HOLDS_THAT_FIT, (holds, in_region)
    assert slots.aggregate(m=Max("used"))["m"] == NODES * holds
    slot_from = slots.order_by("slot_start").first().slot_start
    slot_until = slots.order_by("slot_start").last().slot_start + timedelta(minutes=15)
    slots.update(used=0)
    connections.close_all()

    floor_holds, t_floor = run(
        floor_buyer, (os.environ["DATABASE_URL"], region.pk, slot_from, slot_until)
    )
    assert floor_holds == HOLDS_THAT_FIT
    oversold += FleetSlot.objects.filter(used__gt=region.fleet_size).count()

    holds_per_s = holds / t_service
    floor_per_s = floor_holds / t_floor
    print(
        f"buyers={BUYERS} holds={holds} slots_per_hold={slots.count()} db={url.rsplit('/', 1)[-1]}"
    )
    print(f"service: {holds} holds in {t_service:.2f}s = {holds_per_s:.0f} holds/s")
    print(
        f"floor (raw SQL UPDATE, 1 txn/hold): {floor_holds} in {t_floor:.2f}s = {floor_per_s:.0f}/s"
    )
    print(
        f"RESULT holds_per_s={holds_per_s:.0f} floor_per_s={floor_per_s:.0f} "
        f"ratio={holds_per_s / floor_per_s:.2f} oversold={oversold}"
    )


if __name__ == "__main__":
    main()
