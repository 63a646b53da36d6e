"""End to end on real Janus processes: a 10k booking's cluster, scaled down for this
machine, goes from plan to ready with media reaching every edge, then is torn down
leaving no process, port lease or folder behind."""

import pytest
from django.test import TestCase

from events.models import JanusProcess, RelayCluster, RelayNode
from events.providers.base import Role, get_provider
from events.services import monitoring, provisioning, teardown
from tests.conftest import hold
from tests.events.test_janus import wait_for
from webinars import services

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_10k_cluster_on_janus_from_plan_to_ready_to_teardown(
    janus_installed, relay_root, settings, organiser, package_10k
):
    settings.RELAY_PROVIDER = "janus"
    settings.RELAY_DATA_DIR = relay_root
    settings.RELAY_JANUS_MAX_PROCESSES = 5
    settings.RELAY_JANUS_NODES_PER_PROCESS = 5
    settings.RELAY_POLL_INTERVAL_S = 0.1
    with TestCase.captureOnCommitCallbacks(execute=True):
        webinar = hold(organiser, package_10k)
        services.confirm_booking(webinar, actor=None)
    cluster = RelayCluster.objects.get(webinar=webinar)
    assert cluster.provider == "janus"
    assert (cluster.sized_nodes, cluster.planned_nodes) == (13, 4)  # 2 origins, 10 + 1 edges
    assert "13 planned nodes run as 4 processes" in cluster.scale_note

    assert provisioning.provision_cluster(cluster.pk) == RelayCluster.State.READY
    provider = get_provider("janus")
    edges = [n for n in provider.describe(cluster.code) if n.role == Role.EDGE]
    assert len(edges) == 2

    def fresh():
        health = provider.health_many(edges)
        return all(h.ok and h.media_age_ms is not None for h in health.values())

    assert wait_for(fresh), provider.health_many(edges)
    assert monitoring.monitor_cluster(cluster.pk) == []  # all healthy: nothing replaced
    assert RelayNode.objects.filter(cluster=cluster, healthy=True).count() == 4

    teardown.teardown_cluster(cluster.pk)
    cluster.refresh_from_db()
    assert cluster.state == RelayCluster.State.TORN_DOWN
    assert provider.list_resources(cluster.code) == []
    assert not JanusProcess.objects.filter(
        webinar_code=cluster.code, state=JanusProcess.State.RUNNING
    ).exists()
    assert not cluster.incidents.exists()
