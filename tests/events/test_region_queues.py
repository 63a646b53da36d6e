"""Provider calls on the region queues: node creation of each region is one task on
`relays.<region>`, so only a worker consuming that queue creates the region's nodes; a
request is queued once per claim (again when it goes stale), and a region task of a claim
that was replaced does nothing."""

import os
import signal
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from config.celery import app as celery_app
from events.models import RelayCluster, RelayNode
from events.providers.base import get_provider
from events.routing import region_queue
from events.services import provisioning, teardown
from events.tasks import issue_region_nodes_task, provision_cluster_task
from tests.events.cluster_helpers import committed, confirmed, simulate, start_worker, wait_until

C = RelayCluster.State
N = RelayNode.State
TWO_REGIONS = {"custom_split": {"us-east": 5000, "eu-west": 5000}}


def queued(redis_conn, region: str) -> int:
    """Messages waiting on the broker (the suite's Redis) in the region's queue."""
    return redis_conn.llen(region_queue(region))


@pytest.fixture
def sim(settings):
    simulate(settings, queues=True)
    return settings


@pytest.fixture
def empty_queues(redis_conn):
    def purge() -> None:
        for region in ("us-east", "eu-west"):
            redis_conn.delete(region_queue(region))

    purge()
    yield
    purge()


def test_a_region_s_provider_calls_are_routed_to_its_own_queue():
    router = celery_app.amqp.router
    kwargs = {"cluster_id": 1, "region": "eu-west", "token": "t"}
    route = router.route({}, issue_region_nodes_task.name, (), kwargs)
    assert route["queue"].name == "relays.eu-west"
    # the coordinator and everything else stay on the default queue
    assert (
        router.route({}, provision_cluster_task.name, (), {"cluster_id": 1})["queue"].name
        == celery_app.conf.task_default_queue
    )


@pytest.mark.django_db
def test_planned_nodes_are_queued_once_per_region_and_again_when_the_request_goes_stale(
    sim, organiser, package_10k, redis_conn, empty_queues
):
    cluster = RelayCluster.objects.get(webinar=confirmed(organiser, package_10k, **TWO_REGIONS))
    token = provisioning.claim(cluster.pk, worker="coordinator")
    celery_app.conf.task_always_eager = False  # publish to the broker; no worker listens
    regions = committed(provisioning.dispatch_planned, cluster, token=token)
    assert regions == ["eu-west", "us-east"]
    assert (queued(redis_conn, "us-east"), queued(redis_conn, "eu-west")) == (1, 1)
    planned = RelayNode.objects.filter(cluster=cluster, state=N.PLANNED)
    assert not planned.filter(requested_at__isnull=True).exists()

    assert committed(provisioning.dispatch_planned, cluster, token=token) == []  # in flight
    assert (queued(redis_conn, "us-east"), queued(redis_conn, "eu-west")) == (1, 1)

    old = timezone.now() - timedelta(seconds=sim.RELAY_REGION_DISPATCH_TIMEOUT_S + 1)
    planned.filter(region="eu-west").update(requested_at=old)  # its worker died
    assert committed(provisioning.dispatch_planned, cluster, token=token) == ["eu-west"]
    assert (queued(redis_conn, "us-east"), queued(redis_conn, "eu-west")) == (1, 2)


@pytest.mark.django_db
def test_a_region_task_of_a_replaced_claim_creates_nothing(sim, organiser, package_10k):
    cluster = RelayCluster.objects.get(webinar=confirmed(organiser, package_10k, **TWO_REGIONS))
    old_token = provisioning.claim(cluster.pk, worker="first")
    RelayCluster.objects.filter(pk=cluster.pk).update(claimed_at=None)  # first worker died
    new_token = provisioning.claim(cluster.pk, worker="second")
    assert new_token is not None and new_token != old_token

    assert provisioning.issue_region_nodes(cluster.pk, "us-east", token=str(old_token)) == 0
    assert get_provider("simulated").describe(cluster.code) == []
    assert not RelayNode.objects.filter(cluster=cluster).exclude(state=N.PLANNED).exists()

    created = provisioning.issue_region_nodes(cluster.pk, "us-east", token=str(new_token))
    us_east = RelayNode.objects.filter(cluster=cluster, region="us-east")
    assert created == us_east.count() > 0
    assert not us_east.filter(state=N.PLANNED).exists()
    assert (
        not RelayNode.objects.filter(cluster=cluster, region="eu-west")
        .exclude(state=N.PLANNED)
        .exists()
    )
    teardown.teardown_cluster(cluster.pk)


@pytest.mark.django_db
def test_relay_queues_names_every_active_region_or_the_ones_asked_for(capsys, catalogue):
    call_command("relay_queues")
    every = capsys.readouterr().out.strip().split(",")
    assert "relays.eu-west" in every and "relays.us-east" in every
    call_command("relay_queues", "--region", "eu-west")
    assert capsys.readouterr().out.strip() == "relays.eu-west"
    with pytest.raises(CommandError, match="Unknown region"):
        call_command("relay_queues", "--region", "atlantis")


SIMULATION = {
    "RELAY_PROVIDER": "simulated",
    "RELAY_SIM_TIME_SCALE": "0.005",
    "RELAY_SIM_BOOT_MEAN_S": "200",
    "RELAY_SIM_BOOT_JITTER_S": "40",
    "RELAY_SIM_FAILURE_RATE": "0",
    "RELAY_SIM_SEED": "regions",
    "RELAY_POLL_INTERVAL_S": "0.2",
    "RELAY_PROVISION_WAIT_S": "120",
}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_only_a_worker_on_a_region_s_queue_creates_its_nodes(
    settings, organiser, package_10k, empty_queues
):
    """A control worker and a worker for us-east only: us-east's nodes boot, eu-west's wait
    on their queue, untouched, until a worker for eu-west starts; then the cluster is ready
    with every slot filled once."""
    for name, value in SIMULATION.items():
        setattr(settings, name, type(getattr(settings, name))(value))
    cluster = RelayCluster.objects.get(webinar=confirmed(organiser, package_10k, **TWO_REGIONS))
    celery_app.conf.task_always_eager = False
    workers = [
        start_worker(SIMULATION, queues="celery", name="control"),
        start_worker(SIMULATION, queues="relays.us-east", name="us-east"),
    ]
    nodes = RelayNode.objects.filter(cluster=cluster)
    try:
        provision_cluster_task.delay(cluster_id=cluster.pk)
        assert wait_until(
            lambda: not nodes.filter(region="us-east", state__in=(N.PLANNED, N.PENDING)).exists()
        ), "us-east never came up"
        eu_west = nodes.filter(region="eu-west")
        assert set(eu_west.values_list("state", flat=True)) == {N.PLANNED}
        assert not eu_west.filter(requested_at__isnull=True).exists()  # queued, waiting
        assert RelayCluster.objects.get(pk=cluster.pk).state == C.PROVISIONING

        workers.append(start_worker(SIMULATION, queues="relays.eu-west", name="eu-west"))
        assert wait_until(lambda: RelayCluster.objects.get(pk=cluster.pk).state == C.READY), (
            RelayCluster.objects.get(pk=cluster.pk).state
        )
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=30)
        celery_app.conf.task_always_eager = True

    up = nodes.filter(state__in=RelayNode.UP_STATES)
    slots = Counter(up.values_list("region", "role", "index"))
    assert len(slots) == cluster.planned_nodes and set(slots.values()) == {1}
    teardown.teardown_cluster(cluster.pk)
    assert get_provider("simulated").list_resources(cluster.code) == []
