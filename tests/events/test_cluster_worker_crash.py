"""A real Celery worker on Redis is killed with SIGKILL in the middle of provisioning; a
new worker takes the cluster over (beat's sweep finds the stale claim) and finishes it:
the final node set equals the plan, nothing was booted twice, nothing is left behind."""

import os
import signal
import time
from collections import Counter

import pytest

from config.celery import app as celery_app
from events.models import RelayCluster, RelayNode
from events.providers.base import get_provider
from events.services import teardown
from events.tasks import provision_cluster_task, provision_due_clusters_task
from tests.events.cluster_helpers import confirmed, start_worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SIMULATION = {
    "RELAY_PROVIDER": "simulated",
    "RELAY_SIM_TIME_SCALE": "0.01",  # a 300 s boot takes 3 s
    "RELAY_SIM_BOOT_MEAN_S": "300",
    "RELAY_SIM_BOOT_JITTER_S": "60",
    "RELAY_SIM_FAILURE_RATE": "0.1",
    "RELAY_SIM_SEED": "crash",
    "RELAY_SIM_API_RATE": "50",
    "RELAY_SIM_API_BURST": "50",
    "RELAY_POLL_INTERVAL_S": "0.2",
    "RELAY_CLAIM_TTL_S": "2",
}


def test_a_worker_killed_mid_provisioning_is_replaced_without_duplicates_or_leaks(
    settings, organiser, package_10k
):
    for name, value in SIMULATION.items():
        setattr(settings, name, type(getattr(settings, name))(value))
    webinar = confirmed(organiser, package_10k, custom_split={"us-east": 5000, "eu-west": 5000})
    cluster = RelayCluster.objects.get(webinar=webinar)
    planned = cluster.planned_nodes
    celery_app.conf.task_always_eager = False
    # One worker for everything (the coordinator and both regions' provider calls), so
    # SIGKILL takes every task of the cluster down at once.
    queues = "celery,relays.us-east,relays.eu-west"
    first = start_worker(SIMULATION, queues=queues, concurrency=3)
    second = None
    try:
        provision_cluster_task.delay(cluster_id=cluster.pk)
        booting = RelayNode.objects.filter(cluster=cluster, state=RelayNode.State.PENDING)
        assert wait_until(lambda: booting.count() >= planned // 2), "provisioning never began"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        cluster.refresh_from_db()
        assert cluster.state == RelayCluster.State.PROVISIONING  # killed half way

        second = start_worker(SIMULATION, queues=queues, concurrency=3)
        time.sleep(2.5)  # the dead worker's claim goes stale
        provision_due_clusters_task.delay()  # what beat sends every 15 s
        assert wait_until(
            lambda: RelayCluster.objects.get(pk=cluster.pk).state == RelayCluster.State.READY
        ), RelayCluster.objects.get(pk=cluster.pk).state
    finally:
        for proc in (first, second):
            if proc and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
        celery_app.conf.task_always_eager = True

    up = RelayNode.objects.filter(cluster=cluster, state__in=RelayNode.UP_STATES)
    slots = Counter(up.values_list("region", "role", "index"))
    assert len(slots) == planned and set(slots.values()) == {1}
    provider = get_provider("simulated")
    at_provider = [n.request_key for n in provider.describe(cluster.code)]
    assert sorted(at_provider) == sorted(up.values_list("request_key", flat=True))
    # every request key the control plane ever issued is one node; none was booted twice
    assert RelayNode.objects.filter(cluster=cluster).count() == len(
        set(RelayNode.objects.filter(cluster=cluster).values_list("request_key", flat=True))
    )
    teardown.teardown_cluster(cluster.pk)
    assert provider.list_resources(cluster.code) == []
