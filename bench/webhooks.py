"""2,000 distinct signed Stripe events, each delivered 3 times at once to the real endpoint.

Real parts, all on 127.0.0.1: gunicorn serving the project (bench.webhook_site.settings =
the project's settings plus a floor URL), a Celery worker, the local Stripe emulator, and
the PostgreSQL / Valkey that `devtools.run bench` provides. Each event is a
`checkout.session.expired` for an open Checkout Session that has a matching `Payment`, so
the worker really runs the handler (it re-fetches the session, which is still open, and
changes nothing) and bumps `StripeEvent.attempts` once per real processing.

Floor, same run, same gunicorn, same client: `/bench/floor/` verifies nothing and inserts
one row (id + jsonb payload, ON CONFLICT DO NOTHING) for the same 2,000 x 3 bodies.

RESULT events_per_s=.. floor_per_s=.. ratio=.. processed_twice=0   (target: ratio >= 0.3)
"""

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from _common import ROOT, percentile, seed_round_the_clock_roster, setup_django

EVENTS = int(os.environ.get("BENCH_EVENTS", "2000"))
COPIES = 3
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "32"))
# 2 cores: one gunicorn process per core (the view is CPU-bound Python), 4 threads each so
# a request waiting on PostgreSQL's commit flush or on Redis does not idle its core.
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "2"))
GUNICORN_THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "4"))
PROCESS_TIMEOUT_S = 120.0
WATCHDOG_S = 235  # the whole script must end by itself in about 4 minutes
# A Redis database of its own: tasks queued by earlier bench scripts (other scratch
# databases) must not reach this worker, and purging it touches nothing else.
REDIS_DB = int(os.environ.get("BENCH_WEBHOOKS_REDIS_DB", "9"))
# Emulator-only credentials: the emulator accepts any sk_test_ key.
WEBHOOK_SECRET = "whsec_bench"  # noqa: S105
SECRET_KEY = "sk_test_bench"  # noqa: S105
EVENT_TYPE = "checkout.session.expired"
PY = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_argv(port: int, workers: int, threads: int) -> list[str]:
    """The benchmarks' web server: gunicorn's gthread workers on loopback."""
    return [
        PY, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
        "--backlog", "2048", "--log-level", "warning",
    ]  # fmt: skip


def wait_until(what: str, ready: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout:.0f}s")
        time.sleep(0.2)


def http_up(url: str) -> bool:
    """True once the server answers at all (a 401 or 404 counts: it is listening)."""
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback only
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


# --- child processes ------------------------------------------------------------------------


@dataclass
class Children:
    """Subprocesses in their own sessions, so SIGTERM/SIGKILL reach a pool's children too."""

    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        out = (self.logs / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}: {self.tail(name)}")

    def tail(self, name: str, lines: int = 15) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop_all(self, timeout: float = 10.0) -> None:
        for proc in self.procs.values():
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs.values():
            with suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
        for proc in self.procs.values():
            # A group can outlive its leader (Celery's pool); kill whatever is left.
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with suppress(subprocess.TimeoutExpired):
                proc.wait(5)


def cpu_by_part(children: Children) -> Counter[str]:
    """CPU seconds used so far per part (our children by process group, else by name), to
    say where the 2 cores went during a phase."""
    groups = {proc.pid: name for name, proc in children.procs.items()}
    used: Counter[str] = Counter()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        pgrp, utime, stime = int(fields[2]), int(fields[11]), int(fields[12])
        if stat.parent.name == str(os.getpid()):
            part = "client"
        elif pgrp in groups:
            part = groups[pgrp]
        elif comm.startswith("postgres"):
            part = "postgres"
        elif "valkey" in comm or "redis" in comm:
            part = "valkey"
        else:
            continue
        used[part] += (utime + stime) / CLK_TCK
    return used


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / CLK_TCK, sum(ticks) / CLK_TCK


@contextmanager
def cpu_report(children: Children, label: str) -> Iterator[None]:
    before, machine_before = cpu_by_part(children), machine_busy()
    start = time.perf_counter()
    yield
    wall = time.perf_counter() - start
    after, machine_after = cpu_by_part(children), machine_busy()
    parts = ", ".join(
        f"{part} {(after[part] - before[part]) / wall:.2f}"
        for part in sorted(after, key=lambda p: before[p] - after[p])
    )
    busy = (machine_after[0] - machine_before[0]) / (machine_after[1] - machine_before[1])
    log(f"  during {label}: machine {busy:.0%} busy; cores used by {parts}")


# --- fixtures: sessions on the emulator, payments in the database --------------------------


def create_sessions(api_base: str, count: int) -> list[dict[str, Any]]:
    import stripe

    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": api_base})
    expires_at = int(time.time()) + 3600

    def create(index: int) -> dict[str, Any]:
        session = client.v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "client_reference_id": f"bench-{index}",
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": "usd",
                            "unit_amount": 900_000,
                            "product_data": {"name": "10k attendees webinar"},
                        },
                    }
                ],
                "metadata": {"bench": str(index)},
                "expires_at": expires_at,
                "success_url": "http://127.0.0.1/billing/return/",
                "cancel_url": "http://127.0.0.1/billing/cancel/",
            }
        )
        return session.to_dict()

    # The emulator is one asyncio process; a few parallel clients keep it busy.
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(create, range(count)))


def create_payments(sessions: list[dict[str, Any]]) -> None:
    """One held webinar through the real service, cloned so every payment has its own
    webinar (as in production: the handler locks the webinar row first)."""
    from billing.models import Payment
    from webinars import services
    from webinars.models import Package, Webinar

    user = services.register_organiser(email="hooks@example.com", password="bench-password-1")
    org = services.create_organisation(
        user,
        actor=user,
        legal_name="Webhook Bench Org",
        address_line1="1 Main St",
        city="Springfield",
        country="US",
        billing_email="billing@example.com",
    )
    day = (datetime.now() + timedelta(days=20)).date()
    base = services.book_webinar(
        org,
        actor=user,
        title="Bench webinar",
        package=Package.objects.get(code="10k"),
        start_local=datetime(day.year, day.month, day.day, 15, 0),
        timezone_name="UTC",
        duration_minutes=90,
        preset="custom",
        custom_split={"us-east": 10000},
    )
    copied = {
        f.attname: getattr(base, f.attname)
        for f in Webinar._meta.concrete_fields
        if f.name not in ("id", "code")  # code: a fresh random default per clone
    }
    webinars = Webinar.objects.bulk_create(
        [Webinar(**copied) for _ in range(len(sessions) - 1)], batch_size=500
    )
    webinars.append(base)
    Payment.objects.bulk_create(
        [
            Payment(
                webinar=webinar,
                organisation=org,
                attempt=1,
                currency=webinar.currency,
                net_minor=webinar.price_minor,
                amount_minor=webinar.price_minor,
                checkout_session_id=session["id"],
                checkout_url=session["url"] or "",
                expires_at=datetime.fromtimestamp(session["expires_at"], tz=UTC),
            )
            for webinar, session in zip(webinars, sessions, strict=True)
        ],
        batch_size=500,
    )


def build_events(sessions: list[dict[str, Any]], type_: str, prefix: str) -> list[bytes]:
    """Stripe's event envelope around the full session object, as Stripe sends it."""
    now = int(time.time())
    return [
        json.dumps(
            {
                "id": f"evt_{prefix}{index:05d}{secrets.token_hex(8)}",
                "object": "event",
                "api_version": "2024-06-20",
                "created": now,
                "data": {"object": session},
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "type": type_,
            }
        ).encode()
        for index, session in enumerate(sessions)
    ]


def sign(bodies: list[bytes]) -> list[tuple[bytes, str]]:
    import stripe

    return [
        (body, stripe.WebhookSignature.generate_signature_header(body.decode(), WEBHOOK_SECRET))
        for body in bodies
    ]


# --- the client -----------------------------------------------------------------------------


@dataclass
class Delivery:
    elapsed: float
    statuses: Counter[int]
    latencies: list[float]

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)


async def _deliver(url: str, signed: list[tuple[bytes, str]]) -> Delivery:
    import aiohttp

    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    slots = asyncio.Semaphore(CONCURRENCY)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def post(body: bytes, signature: str) -> None:
            headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
            async with slots:
                start = time.perf_counter()
                try:
                    async with http.post(url, data=body, headers=headers) as response:
                        await response.read()
                        statuses[response.status] += 1
                except (aiohttp.ClientError, TimeoutError):
                    statuses[0] += 1  # 0 = no HTTP answer at all
                latencies.append(time.perf_counter() - start)

        async def event(body: bytes, signature: str) -> None:
            # The copies queue on the semaphore one after another (it is FIFO), so they
            # go out together and race each other in the server.
            await asyncio.gather(*(post(body, signature) for _ in range(COPIES)))

        start = time.perf_counter()
        await asyncio.gather(*(event(body, signature) for body, signature in signed))
        elapsed = time.perf_counter() - start
    return Delivery(elapsed, statuses, latencies)


def deliver(url: str, signed: list[tuple[bytes, str]]) -> Delivery:
    return asyncio.run(_deliver(url, signed))


def describe(label: str, result: Delivery) -> None:
    ms = [x * 1000 for x in result.latencies]
    requests = sum(result.statuses.values())
    log(
        f"{label}: {requests} requests in {result.elapsed:.2f}s = "
        f"{EVENTS / result.elapsed:.0f} events/s ({requests / result.elapsed:.0f} req/s), "
        f"p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
        f"statuses {dict(result.statuses)}"
    )


# --- main -----------------------------------------------------------------------------------


def _watchdog(_signum: int, _frame: FrameType | None) -> None:
    raise TimeoutError(f"bench/webhooks.py did not finish within {WATCHDOG_S}s")


def redis_url_for_bench() -> str:
    parts = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return urlunsplit(parts._replace(path=f"/{REDIS_DB}"))


def main() -> None:
    signal.signal(signal.SIGALRM, _watchdog)
    signal.alarm(WATCHDOG_S)
    os.environ["REDIS_URL"] = redis_url_for_bench()
    db_url = setup_django("bench_webhooks")
    seed_round_the_clock_roster()  # every hold needs an Event Services team

    from django.db import connection
    from django.db.models import Max, Min

    from bench.webhook_site.urls import FLOOR_TABLE_SQL
    from billing.models import Payment, StripeEvent
    from config.celery import app as celery_app

    with connection.cursor() as cursor:
        cursor.execute(FLOOR_TABLE_SQL)
    celery_app.control.purge()

    emulator_port, web_port = free_port(), free_port()
    emulator_url = f"http://127.0.0.1:{emulator_port}"
    web_url = f"http://127.0.0.1:{web_port}"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": os.environ["REDIS_URL"],
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_API_BASE": emulator_url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "DJANGO_SECRET_KEY": os.environ["DJANGO_SECRET_KEY"],
        "DJANGO_DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    children = Children(Path(tempfile.mkdtemp(prefix="bench_webhooks_")))
    try:
        children.start(
            "stripe-emulator",
            [PY, "-m", "devtools.stripe_emulator", "--port", str(emulator_port)],
            env,
        )
        wait_until("stripe emulator", lambda: http_up(f"{emulator_url}/v1/customers"), 30)

        t0 = time.perf_counter()
        sessions = create_sessions(emulator_url, EVENTS)
        create_payments(sessions)
        log(f"set-up: {EVENTS} Checkout Sessions + payments in {time.perf_counter() - t0:.1f}s")

        children.start(
            "gunicorn",
            gunicorn_argv(web_port, GUNICORN_WORKERS, GUNICORN_THREADS),
            {**env, "DJANGO_SETTINGS_MODULE": "bench.webhook_site.settings"},
        )
        children.start(
            "celery-worker",
            [PY, "-m", "celery", "-A", "config", "worker", "-c", "2", "-l", "WARNING"],
            {**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        )
        wait_until("gunicorn", lambda: http_up(f"{web_url}/"), 30)
        wait_until("celery worker", lambda: bool(celery_app.control.ping(timeout=0.5)), 30)
        children.check_alive()

        # Warm-up: imports, URL resolution and DB connections of every gunicorn thread.
        # Ignored event types store a row but queue nothing; both are removed afterwards.
        warm = sign(build_events(sessions[:64], "customer.updated", "warm"))
        for url in (f"{web_url}/bench/floor/", f"{web_url}/billing/stripe/webhook/"):
            result = deliver(url, warm)
            assert result.non_2xx == 0, f"warm-up {url}: {dict(result.statuses)}"
        StripeEvent.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE bench_floor")

        bodies = build_events(sessions, EVENT_TYPE, "bench")
        with cpu_report(children, "floor"):
            floor = deliver(f"{web_url}/bench/floor/", sign(bodies))
        describe("floor (no verification, 1 INSERT)", floor)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM bench_floor")
            assert cursor.fetchone()[0] == EVENTS

        signed = sign(bodies)  # fresh timestamps: the endpoint checks a 5-minute tolerance
        with cpu_report(children, "webhook delivery"):
            hooks = deliver(f"{web_url}/billing/stripe/webhook/", signed)
        describe("webhook endpoint (verify, store once, queue)", hooks)

        processed = StripeEvent.objects.filter(status=StripeEvent.Status.PROCESSED)
        t_wait = time.perf_counter()
        with cpu_report(children, "remaining processing"):
            deadline = time.monotonic() + PROCESS_TIMEOUT_S
            while processed.count() < EVENTS and time.monotonic() < deadline:
                children.check_alive()
                time.sleep(0.25)
        drained_in = time.perf_counter() - t_wait

        rows = StripeEvent.objects.count()
        done = processed.count()
        statuses = Counter(StripeEvent.objects.values_list("status", flat=True))
        processed_twice = StripeEvent.objects.filter(attempts__gt=1).count()
        span = processed.aggregate(first=Min("received_at"), last=Max("processed_at"))
        processing_s = (
            (span["last"] - span["first"]).total_seconds() if span["last"] else float("nan")
        )
        failed = StripeEvent.objects.filter(status=StripeEvent.Status.FAILED).first()
        log(
            f"worker: {done}/{EVENTS} processed, {drained_in:.1f}s after the last response; "
            f"first receipt -> last processed {processing_s:.1f}s = "
            f"{done / processing_s:.0f} events/s; rows by status {dict(statuses)}"
        )
        if failed is not None:
            log(f"  e.g. failed {failed.event_id}: {failed.error}")
        unchanged = Payment.objects.filter(status=Payment.Status.OPEN).count()
        log(f"payments still open (the sessions are open, so nothing changes): {unchanged}")

        events_per_s = EVENTS / hooks.elapsed
        floor_per_s = EVENTS / floor.elapsed
        assert rows == EVENTS, f"{rows} StripeEvent rows for {EVENTS} events"
        assert done == EVENTS, f"only {done}/{EVENTS} processed in time"
        assert hooks.non_2xx == 0 and floor.non_2xx == 0, "non-2xx answers"
        log(
            f"config: {EVENTS} events x {COPIES} copies, {CONCURRENCY} connections, gunicorn "
            f"gthread {GUNICORN_WORKERS}x{GUNICORN_THREADS}, celery prefork -c 2, "
            f"db={db_url.rsplit('/', 1)[-1]}"
        )
        log(
            f"RESULT events_per_s={events_per_s:.0f} floor_per_s={floor_per_s:.0f} "
            f"ratio={events_per_s / floor_per_s:.2f} processed_per_s={done / processing_s:.0f} "
            f"non_2xx={hooks.non_2xx + floor.non_2xx} processed_twice={processed_twice}"
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
