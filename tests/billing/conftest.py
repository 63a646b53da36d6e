"""Billing tests run against the local Stripe emulator over real HTTP.

Two emulators per session: `stripe_live` delivers signed webhooks to the live test server
(the real endpoint, real signature check, Celery eager), `stripe_manual` delivers nothing,
so a test can replay, duplicate and reorder the emulator's real events itself.
"""

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import stripe
from django.core.signals import request_finished, request_started

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_test_billing"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Emulator:
    def __init__(self, webhook_url: str | None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [
            sys.executable,
            "-m",
            "devtools.stripe_emulator",
            "--port",
            str(self.port),
            "--webhook-delay",
            "0.05",
        ]
        if webhook_url:
            argv += ["--webhook-url", webhook_url, "--webhook-secret", SECRET]
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                self.get("/v1/customers")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("stripe emulator did not start")

    def _request(self, method: str, path: str, data: dict | None = None) -> dict:
        body = urllib.parse.urlencode(data or {}).encode() if method == "POST" else None
        request = urllib.request.Request(
            self.url + path,
            data=body,
            method=method,
            headers={"Authorization": "Bearer sk_test_emulator"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else {}

    def get(self, path: str) -> dict:
        return self._request("GET", path)

    def post(self, path: str, data: dict | None = None) -> dict:
        return self._request("POST", path, data)

    def act(self, session_id: str, action: str) -> dict:
        return self.post(f"/_test/checkout/sessions/{session_id}/{action}")

    def events(self, type_: str | None = None) -> list[dict]:
        events = self.get("/v1/events?limit=100")["data"]
        return [e for e in events if type_ is None or e["type"] == type_]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def stripe_live(live_server):
    # One emulator per test: stopping it also stops its pending deliveries and retries,
    # so no webhook of one test lands in the next one.
    emulator = Emulator(f"{live_server.url}/billing/stripe/webhook/")
    yield emulator
    emulator.stop()
    _wait_for_idle_server()


class _InFlight:
    """Requests the live server is handling right now (request_started/finished)."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def started(self, **_kwargs: object) -> None:
        with self.lock:
            self.count += 1

    def finished(self, **_kwargs: object) -> None:
        with self.lock:
            self.count -= 1


IN_FLIGHT = _InFlight()
request_started.connect(IN_FLIGHT.started, dispatch_uid="billing-tests-started")
request_finished.connect(IN_FLIGHT.finished, dispatch_uid="billing-tests-finished")


def _wait_for_idle_server(quiet: float = 0.3, limit: float = 15.0) -> None:
    """A delivery may still be in flight when the emulator stops; the database flush after
    the test must not race with it."""
    deadline = time.monotonic() + limit
    idle_since = None
    while time.monotonic() < deadline:
        if IN_FLIGHT.count <= 0:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= quiet:
                return
        else:
            idle_since = None
        time.sleep(0.05)


@pytest.fixture(scope="session")
def stripe_manual():
    emulator = Emulator(None)
    yield emulator
    emulator.stop()


def _configure(settings, emulator: Emulator, site_url: str) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_emulator"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.STRIPE_API_BASE = emulator.url
    settings.SITE_URL = site_url


@pytest.fixture
def live_stripe(settings, stripe_live, live_server, transactional_db):
    _configure(settings, stripe_live, live_server.url)
    return stripe_live


@pytest.fixture
def manual_stripe(settings, stripe_manual, transactional_db):
    _configure(settings, stripe_manual, "http://testserver")
    return stripe_manual


def wait_for(predicate: Callable[[], object], timeout: float = 20.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def signed(event: dict, secret: str = SECRET) -> tuple[bytes, str]:
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret)
    return payload.encode(), header


def deliver(client, event: dict, secret: str = SECRET):
    body, header = signed(event, secret)
    return client.post(
        "/billing/stripe/webhook/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
