"""Helpers of the relay-cluster tests: confirmed bookings (signals run after commit), a fast
seeded cloud simulation, and provisioning driven to the end."""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta

from django.db import connection
from django.test import TestCase

from events.models import RelayCluster
from events.services import provisioning
from tests.conftest import hold, local_start
from webinars import services
from webinars.models import AuditEntry, Package, User, Webinar

EIGHT_REGIONS = {
    r: 1250
    for r in (
        "us-east", "us-west", "sa-east", "eu-west", "eu-central", "ap-south", "ap-southeast",
        "ap-northeast",
    )
}  # fmt: skip


def simulate(
    settings, *, failure_rate: float = 0.0, seed: str = "clusters", queues: bool = False
) -> None:
    """A seeded simulation where a 60 s boot takes 60 ms. Without `queues` the coordinator
    calls the provider itself: inside a test's transaction the region tasks, queued on
    commit, would only run once the test's block ends (test_region_queues.py covers them,
    committed, with real workers)."""
    settings.RELAY_REGION_QUEUES = queues
    settings.RELAY_PROVIDER = "simulated"
    settings.RELAY_SIM_TIME_SCALE = 0.001
    settings.RELAY_SIM_FAILURE_RATE = failure_rate
    settings.RELAY_SIM_SEED = seed
    settings.RELAY_SIM_API_RATE = 20.0
    settings.RELAY_SIM_API_BURST = 20
    settings.RELAY_POLL_INTERVAL_S = 0.02
    settings.RELAY_PROVISION_WAIT_S = 30.0


def confirmed(user: User, package: Package, **overrides) -> Webinar:
    """Hold and confirm, running the on-commit callbacks (booking_confirmed, the plan)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        webinar = hold(user, package, **overrides)
        services.confirm_booking(webinar, actor=None)
    return Webinar.objects.get(pk=webinar.pk)


def confirmed_1m(user: User, package: Package) -> Webinar:
    return confirmed(user, package, start_local=local_start(days=40), custom_split=EIGHT_REGIONS)


def provision_to_ready(cluster: RelayCluster) -> RelayCluster:
    with TestCase.captureOnCommitCallbacks(execute=True):
        state = provisioning.provision_cluster(cluster.pk)
    assert state == RelayCluster.State.READY, state
    return RelayCluster.objects.get(pk=cluster.pk)


def actions(cluster: RelayCluster, prefix: str) -> list[str]:
    return list(
        AuditEntry.objects.filter(webinar=cluster.webinar, action__startswith=prefix)
        .order_by("pk")
        .values_list("action", flat=True)
    )


def after_start(webinar: Webinar, minutes: int = 1):
    return webinar.start_at + timedelta(minutes=minutes)


def committed(fn, *args, **kwargs):
    """Call a service and run what it queued for after commit (emails, tasks)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return fn(*args, **kwargs)


def start_worker(
    environment: dict[str, str], *, queues: str, concurrency: int = 1, name: str = "w"
) -> subprocess.Popen:
    """A real Celery worker on the suite's database and Redis, in its own process group
    (kill it with os.killpg), consuming `queues` (comma-separated)."""
    db = connection.settings_dict
    env = dict(os.environ) | environment
    env["DATABASE_URL"] = (
        f"postgresql://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "WARNING",
         "-c", str(concurrency), "-n", f"{name}-{os.getpid()}@%h", "-Q", queues,
         "--without-heartbeat", "--without-mingle", "--without-gossip"],
        env=env,
        start_new_session=True,
    )  # fmt: skip


def wait_until(predicate: Callable[[], bool], timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False
