"""The hold sweeper on a real Celery worker over the real broker (Redis/Valkey)."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.celery import app as celery_app
from tests.conftest import hold
from webinars.models import FleetSlot, Webinar
from webinars.tasks import expire_holds_task

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def worker():
    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = (
        f"postgresql://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-l",
            "WARNING",
            "-c",
            "1",
            "-Q",
            "celery",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        env=env,
        start_new_session=True,
    )
    yield proc
    proc.terminate()
    proc.wait(timeout=30)


def test_expired_hold_is_released_by_a_real_worker(organiser, package_10k, worker):
    webinar = hold(organiser, package_10k)
    Webinar.objects.filter(pk=webinar.pk).update(
        hold_expires_at=timezone.now() - timedelta(minutes=1)
    )
    celery_app.conf.task_always_eager = False
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    expire_holds_task.delay()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        webinar.refresh_from_db()
        if webinar.status == "expired":
            break
        time.sleep(0.5)
    assert webinar.status == "expired"
    assert set(FleetSlot.objects.values_list("used", flat=True)) == {0}
