"""A flash crowd on the join path: 200,000 registrants, 150,000 seats, 64 clients.

Real parts, all on 127.0.0.1: gunicorn serving the project (bench.admission_site.settings =
the project's settings plus a floor URL) and the Redis / PostgreSQL that `devtools.run
bench` provides (a Redis database of its own, flushed first). One webinar is booked through
the real service, then moved by the bench to "live, doors open now" with capacity 150,000
and a relay cluster of 143 serving edges over 8 regions (rows written directly), and its
admission config is published by the real service.

The 200,000 registrants are join tokens only (no Registrant rows): the join path never
reads SQL, so rows would change nothing here. To keep the run under ~2 minutes on 2 cores,
the first BENCH_ADMISSION_PREFILL (125,000) seats are taken through the very same Lua join
script straight from this process (pipelined), and the measured phase sends
BENCH_ADMISSION_REQUESTS (40,000) join-path requests over HTTP: 70 % first joins of the
remaining registrants (the cap is reached during the phase, later joiners get the waiting
room), 15 % re-joins and 15 % heartbeats of seated viewers. The seat TTL is set to 600 s
for the run so the pre-filled seats, which send no heartbeats, stay held.

Floor, same run, same gunicorn, same client: `/bench/floor/<token>/seat`, a bare Django view
returning a JSON body of the same size as an admission's answer, with the same request body.
Floor and join path take turns in four slices, so the shared machine's load moves both.

RESULT joins_per_s=.. floor_per_s=.. ratio=.. p99_ms=.. admitted=.. max_concurrent=..
cap=150000 exceeded=0   (target: ratio >= 0.6, exceeded = 0)
"""

import asyncio
import json
import math
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

from _common import percentile, seed_round_the_clock_roster, setup_django
from webhooks import (
    Children,
    cpu_by_part,
    free_port,
    gunicorn_argv,
    http_up,
    log,
    wait_until,
)

REGISTRANTS = 200_000
CAPACITY = 150_000
PREFILL = int(os.environ.get("BENCH_ADMISSION_PREFILL", "125000"))
REQUESTS = int(os.environ.get("BENCH_ADMISSION_REQUESTS", "40000"))
FLOOR_REQUESTS = int(os.environ.get("BENCH_ADMISSION_FLOOR_REQUESTS", "20000"))
CONCURRENCY = 64
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "2"))
GUNICORN_THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "4"))
REDIS_DB = int(os.environ.get("BENCH_ADMISSION_REDIS_DB", "10"))
WATCHDOG_S = 170
ROUNDS = 4  # floor and join path alternate in this many slices
SPLIT = {
    "us-east": 2500,
    "us-west": 1250,
    "sa-east": 750,
    "eu-west": 1750,
    "eu-central": 1250,
    "ap-south": 1000,
    "ap-southeast": 750,
    "ap-northeast": 750,
}
PY = sys.executable


def _watchdog(_signum: int, _frame: FrameType | None) -> None:
    raise TimeoutError(f"bench/admission.py did not finish within {WATCHDOG_S}s")


def redis_url_for_bench() -> str:
    parts = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return urlunsplit(parts._replace(path=f"/{REDIS_DB}"))


def region_of(registrant_id: int) -> str:
    """Registrants spread over the regions like the audience split."""
    point = registrant_id * 7919 % 10_000
    for region, share in SPLIT.items():
        if point < share:
            return region
        point -= share
    return "us-east"


def session_of(registrant_id: int) -> str:
    return f"bench-session-{registrant_id:09d}"


# --- set-up -------------------------------------------------------------------------------


def live_webinar() -> str:
    """A booked webinar moved to live with doors open, capacity 150,000 and 143 serving
    edges, its admission config published by the real service. Returns its code."""
    from django.utils import timezone

    from events.models import RelayCluster, RelayNode
    from events.services import attendance
    from webinars import services
    from webinars.models import Package, Webinar

    seed_round_the_clock_roster()  # the hold needs its Event Services team
    user = services.register_organiser(email="crowd@example.com", password="bench-password-1")
    org = services.create_organisation(
        user,
        actor=user,
        legal_name="Crowd Bench Org",
        address_line1="1 Main St",
        city="Springfield",
        country="US",
        billing_email="billing@example.com",
    )
    start = timezone.localtime(timezone.now() + timedelta(days=60)).replace(tzinfo=None)
    webinar = services.book_webinar(
        org,
        actor=user,
        title="Flash crowd",
        package=Package.objects.get(code="250k"),
        start_local=start.replace(minute=0, second=0, microsecond=0),
        timezone_name="UTC",
        duration_minutes=120,
        preset="custom",
        custom_split=SPLIT,
    )
    now = timezone.now()
    Webinar.objects.filter(pk=webinar.pk).update(
        status=Webinar.Status.LIVE, capacity=CAPACITY, start_at=now + timedelta(minutes=5)
    )
    edges_total = math.ceil(CAPACITY / 1050)
    cluster = RelayCluster.objects.create(
        webinar=webinar,
        code=webinar.code,
        provider="simulated",
        state=RelayCluster.State.LIVE,
        planned_nodes=edges_total,
        sized_nodes=edges_total,
        provision_after=now,
        ready_at=now,
    )
    nodes = []
    for region, share in SPLIT.items():
        for index in range(max(1, round(edges_total * share / 10_000))):
            nodes.append(
                RelayNode(
                    cluster=cluster,
                    region=region,
                    role="edge",
                    index=index,
                    request_key=f"{webinar.code}/{region}/edge/{index}",
                    state=RelayNode.State.SERVING,
                    endpoint=f"edge-{index}.{region}.bench.invalid:8443",
                )
            )
    RelayNode.objects.bulk_create(nodes)
    published = attendance.publish_admission(webinar.pk)
    log(f"set-up: webinar {webinar.code} live, {published} serving edges published")
    return webinar.code


def prefill(code: str) -> float:
    """The first PREFILL seats, through the same join script, pipelined from here."""
    from events.services import admission

    client = admission.admission_redis()
    join = admission.script("admission_join")
    keys = admission.script_keys(code)
    t0 = time.perf_counter()
    now_ms = int(time.time() * 1000)
    for start in range(1, PREFILL + 1, 2000):
        pipe = client.pipeline(transaction=False)
        for rid in range(start, min(start + 2000, PREFILL + 1)):
            args = [rid, session_of(rid), now_ms, region_of(rid), region_of(rid), 100, "-", 0, 1]
            join(keys=keys, args=args, client=pipe)
        pipe.execute()
    return time.perf_counter() - t0


# --- the client -----------------------------------------------------------------------------


@dataclass
class Run:
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)


async def _drive(items: list[tuple[str, bytes]], parse: bool) -> Run:
    import aiohttp

    run = Run()
    pending = iter(items)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:

        async def client() -> None:
            for url, body in pending:
                t = time.perf_counter()
                async with http.post(url, data=body) as response:
                    raw = await response.read()
                run.latencies.append(time.perf_counter() - t)
                run.statuses[response.status] += 1
                if parse:
                    run.answers[json.loads(raw).get("status", "?")] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
        run.elapsed = time.perf_counter() - t0
    return run


def drive(items: list[tuple[str, bytes]], parse: bool = False) -> Run:
    return asyncio.run(_drive(items, parse))


def merge(total: Run, part: Run) -> None:
    total.elapsed += part.elapsed
    total.latencies += part.latencies
    total.statuses.update(part.statuses)
    total.answers.update(part.answers)


def describe(label: str, run: Run) -> None:
    ms = [x * 1000 for x in run.latencies]
    log(
        f"{label}: {len(ms)} requests in {run.elapsed:.2f}s = {len(ms) / run.elapsed:.0f}/s, "
        f"p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
        f"HTTP {dict(run.statuses)}" + (f", answers {dict(run.answers)}" if run.answers else "")
    )


def workload(web_url: str, tokens: dict[int, str]) -> list[tuple[str, bytes]]:
    """70 % first joins (in a shuffled order), 15 % re-joins, 15 % heartbeats."""
    rng = random.Random(11)
    fresh = list(range(PREFILL + 2, REGISTRANTS + 1))
    rng.shuffle(fresh)
    items = []
    for _ in range(REQUESTS):
        draw = rng.random()
        if draw < 0.70 and fresh:
            rid = fresh.pop()
            items.append((f"{web_url}/j/{tokens[rid]}/seat", b"{}"))
            continue
        rid = rng.randint(1, PREFILL)
        body = json.dumps({"session": session_of(rid)}).encode()
        path = "seat" if draw < 0.85 else "heartbeat"
        items.append((f"{web_url}/j/{tokens[rid]}/{path}", body))
    return items


# --- main -----------------------------------------------------------------------------------


def main() -> None:
    signal.signal(signal.SIGALRM, _watchdog)
    signal.alarm(WATCHDOG_S)
    os.environ["REDIS_URL"] = redis_url_for_bench()
    # The 64 clients share one address: the per-address limit is on but never reached.
    os.environ["ATTENDEE_RATE_PER_IP"] = "1000000"
    os.environ["ATTENDEE_BURST_PER_IP"] = "1000000"
    os.environ["ATTENDEE_SEAT_TTL_S"] = "600"
    db_url = setup_django("bench_admission")

    from django.test import Client

    from events.selectors.attendance import live_figures
    from events.services import admission
    from events.tokens import join_token

    admission.admission_redis().flushdb()
    code = live_webinar()
    t0 = time.perf_counter()
    tokens = {rid: join_token(code, rid, region_of(rid)) for rid in range(1, REGISTRANTS + 1)}
    log(f"set-up: {REGISTRANTS:,} join tokens signed in {time.perf_counter() - t0:.1f}s")
    log(f"set-up: {PREFILL:,} seats pre-filled through the join script in {prefill(code):.1f}s")

    # One join in-process: the size of an admission's answer, which the floor copies.
    web = Client(HTTP_HOST="127.0.0.1")
    sample = web.post(f"/j/{tokens[PREFILL + 1]}/seat", b"{}", "application/json")
    assert sample.status_code == 200 and sample.json()["status"] == "admitted", sample.content
    floor_bytes = len(sample.content)

    web_port = free_port()
    web_url = f"http://127.0.0.1:{web_port}"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "bench.admission_site.settings",
        "BENCH_FLOOR_BYTES": str(floor_bytes),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    children = Children(Path(tempfile.mkdtemp(prefix="bench_admission_")))
    try:
        children.start(
            "gunicorn",
            gunicorn_argv(web_port, GUNICORN_WORKERS, GUNICORN_THREADS),
            env,
        )
        wait_until("gunicorn", lambda: http_up(f"{web_url}/"), 30)
        children.check_alive()
        warm = [(f"{web_url}/bench/floor/{tokens[1]}/seat", b"{}")] * 256
        warm += [
            (f"{web_url}/j/{tokens[rid]}/heartbeat", json.dumps({"session": session_of(rid)}))
            for rid in range(1, 257)
        ]
        assert set(drive(warm).statuses) == {200}, "warm-up failed"

        floor_items = [
            (f"{web_url}/bench/floor/{tokens[(i % REGISTRANTS) + 1]}/seat", b"{}")
            for i in range(FLOOR_REQUESTS)
        ]
        items = workload(web_url, tokens)
        # Floor and join path take turns in ROUNDS slices, so a change in the shared
        # machine's load during the run moves both sides alike.
        floor, joins = Run(), Run()
        web_s = redis_s = floor_web_s = 0.0
        for r in range(ROUNDS):
            before = cpu_by_part(children)
            merge(floor, drive(floor_items[r::ROUNDS]))
            floor_web_s += cpu_by_part(children)["gunicorn"] - before["gunicorn"]
            before = cpu_by_part(children)
            merge(joins, drive(items[r::ROUNDS], parse=True))
            after = cpu_by_part(children)
            web_s += after["gunicorn"] - before["gunicorn"]
            redis_s += after["valkey"] - before["valkey"]
        describe(f"floor (bare view, {floor_bytes}-byte JSON)", floor)
        describe("join path (joins, re-joins, heartbeats)", joins)
        children.check_alive()

        client = admission.admission_redis()
        raw_stats = client.hgetall(admission.key(code, "stats"))
        stats = {k.decode(): int(v) for k, v in raw_stats.items()}
        seated = client.zcard(admission.key(code, "seen"))
        loads = sum(int(v) for v in client.hvals(admission.key(code, "load")))
        # The peak as the dashboard reads it: the highest minute of the concurrency series.
        peak = int(live_figures(code)["peak"])
        exceeded = int(peak > CAPACITY or seated > CAPACITY or loads != seated)
        assert set(joins.statuses) <= {200}, f"non-200 answers: {dict(joins.statuses)}"

        joins_per_s = REQUESTS / joins.elapsed
        floor_per_s = FLOOR_REQUESTS / floor.elapsed
        web_cpu = web_s / REQUESTS
        redis_cpu = redis_s / REQUESTS
        need = 1_000_000 / 600
        log(
            f"admission: {stats.get('admitted', 0):,} admitted in all, {seated:,} seated now, "
            f"peak {peak:,} of {CAPACITY:,}; answers {stats}; edge loads sum {loads:,}"
        )
        log(
            f"cores: {web_cpu * 1000:.2f} ms web CPU (floor: "
            f"{floor_web_s / FLOOR_REQUESTS * 1000:.2f} ms) and {redis_cpu * 1000:.3f} ms Redis "
            f"CPU per request (Redis is shared with the machine); a million joins in ten minutes "
            f"({need:.0f}/s) needs {need * web_cpu:.1f} web cores + {need * redis_cpu:.2f} "
            f"Redis cores; at this run's {joins_per_s:.0f}/s on 2 shared cores, "
            f"{math.ceil(need / joins_per_s * 2)} cores"
        )
        log(
            f"config: {REGISTRANTS:,} registrants (tokens, no rows), {PREFILL:,} pre-filled, "
            f"{REQUESTS:,} HTTP join-path requests, {CONCURRENCY} clients, gunicorn gthread "
            f"{GUNICORN_WORKERS}x{GUNICORN_THREADS}, db={db_url.rsplit('/', 1)[-1]}"
        )
        log(
            f"RESULT joins_per_s={joins_per_s:.0f} floor_per_s={floor_per_s:.0f} "
            f"ratio={joins_per_s / floor_per_s:.2f} "
            f"p99_ms={percentile([x * 1000 for x in joins.latencies], 99):.1f} "
            f"admitted={stats.get('admitted', 0)} max_concurrent={peak} cap={CAPACITY} "
            f"exceeded={exceeded}"
        )
    except BaseException:
        for name in children.procs:
            log(f"--- last lines of {name} ---\n{children.tail(name)}")
        log(f"(full logs kept in {children.logs})")
        raise
    else:
        shutil.rmtree(children.logs, ignore_errors=True)
    finally:
        signal.alarm(0)
        children.stop_all()


if __name__ == "__main__":
    main()
