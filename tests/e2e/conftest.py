"""Fixtures of the browser journeys: the billing fixtures (the emulator delivering signed
webhooks to the live server, Celery eager) and, for the moments a page must wait for the
background, a real Celery worker started when the test asks for it."""

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from django.db import connection

from config.celery import app as celery_app
from tests.billing.conftest import SECRET, live_stripe, stripe_live  # noqa: F401

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgresql://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )


@pytest.fixture
def start_worker(live_stripe, live_server, tmp_path) -> Iterator[Callable[[], None]]:  # noqa: F811
    """Call it to start a real Celery worker on the test database, the emulator and the
    live server. Until then, with eager tasks switched off, queued tasks wait in Redis as
    they do behind a busy worker, so a page can be seen while something is in flight."""
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=_database_url(),
            STRIPE_SECRET_KEY="sk_test_emulator",
            STRIPE_WEBHOOK_SECRET=SECRET,
            STRIPE_API_BASE=live_stripe.url,
            SITE_URL=live_server.url,
            MEDIA_ROOT=str(tmp_path / "media"),
            EMAIL_URL="dummymail://",
            CELERY_TASK_ALWAYS_EAGER="false",
        )
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "-l",
                    "WARNING",
                    "-P",
                    "solo",
                    "-Q",
                    "celery",
                    "--without-heartbeat",
                    "--without-mingle",
                    "--without-gossip",
                ],
                env=env,
                start_new_session=True,
            )
        )

    # Nothing left over from an earlier run may reach this test's worker.
    celery_app.control.purge()
    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=30)
    celery_app.control.purge()


@pytest.fixture
def browser(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the ORM calls in the test
    # are still plain synchronous code (Django's documented escape hatch for this case).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context()
        context.set_default_timeout(20_000)
        yield context
        browser.close()


@pytest.fixture
def page(browser):
    return browser.new_page()
