"""Relay clusters on the simulated provider: planned on confirmation, provisioned to ready
(boot failures replaced), watched, started, completed and torn down by the services that
beat and the receivers call; every state change audited."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection

from events.models import AttendanceSummary, ClusterIncident, RelayCluster, RelayNode
from events.providers.base import get_provider
from events.selectors import relays as selectors
from events.services import clusters, lifecycle, monitoring, nodes, provisioning, teardown
from tests.events.cluster_helpers import (
    actions,
    after_start,
    committed,
    confirmed,
    confirmed_1m,
    provision_to_ready,
    simulate,
)
from webinars import services
from webinars.models import Webinar

C = RelayCluster.State
N = RelayNode.State


def crash(provider, cluster: RelayCluster, row: RelayNode) -> None:
    provider.crash(
        next(n for n in provider.describe(cluster.code) if n.request_key == row.request_key)
    )


@pytest.fixture
def sim(settings):
    simulate(settings)
    return settings


def test_a_confirmed_10k_booking_gets_its_planned_cluster(sim, organiser, package_10k):
    webinar = confirmed(organiser, package_10k)
    cluster = webinar.relay_cluster
    assert cluster.state == C.PLANNED and cluster.provider == "simulated"
    counts = Counter(cluster.nodes.values_list("region", "role"))
    assert counts == {("us-east", "edge"): 10, ("us-east", "spare"): 1, ("us-east", "origin"): 2}
    assert cluster.planned_nodes == 13 == webinar.total_nodes
    assert cluster.provision_after == webinar.start_at - timedelta(minutes=60)
    # single region: the primary origin feeds every edge, spares stay unfed
    primary = cluster.nodes.get(role="origin", index=0)
    assert set(cluster.nodes.filter(role="edge").values_list("parent", flat=True)) == {primary.pk}
    assert cluster.nodes.get(role="spare").parent is None
    assert actions(cluster, "cluster.") == ["cluster.planned"]


def test_a_held_booking_gets_no_cluster(sim, organiser, package_10k):
    from tests.conftest import hold

    webinar = hold(organiser, package_10k)
    assert clusters.plan_cluster(webinar.pk) is None
    assert not RelayCluster.objects.exists()


def test_the_1m_plan_over_eight_regions_is_1074_nodes_fed_through_regional_relays(
    sim, organiser, package_1m
):
    webinar = confirmed_1m(organiser, package_1m)
    cluster = webinar.relay_cluster
    assert cluster.planned_nodes == 1074
    roles = Counter(cluster.nodes.values_list("role", flat=True))
    assert roles == {"edge": 8 * 120, "spare": 8 * 12, "relay": 16, "origin": 2}
    eu_edge = cluster.nodes.filter(region="eu-west", role="edge").select_related("parent").first()
    assert eu_edge.parent.role == "relay" and eu_edge.parent.region == "eu-west"
    assert cluster.provision_after == webinar.start_at - timedelta(minutes=120)
    assert clusters.plan_cluster(webinar.pk) == cluster  # a second signal plans nothing new
    assert RelayNode.objects.count() == 1074


def test_provisioning_brings_the_cluster_to_ready_and_emails(sim, organiser, package_10k):
    webinar = confirmed(organiser, package_10k)
    cluster = provision_to_ready(webinar.relay_cluster)
    assert cluster.ready_at is not None
    states = Counter(cluster.nodes.values_list("state", flat=True))
    assert states == {N.SERVING: 12, N.STANDBY: 1}
    assert selectors.progress(cluster) == (13, 13)
    at_provider = {n.request_key for n in get_provider().describe(cluster.code)}
    assert at_provider == set(cluster.nodes.values_list("request_key", flat=True))
    ready_mail = [m for m in mail.outbox if "Relay cluster ready" in m.subject]
    assert len(ready_mail) == 1
    assert set(ready_mail[0].to) == {
        webinar.organisation.billing_email,
        sim.EVENT_SERVICES_EMAIL,
    }
    assert actions(cluster, "cluster.")[:2] == ["cluster.planned", "cluster.provisioning"]
    assert actions(cluster, "cluster.")[-1] == "cluster.ready"
    # one audit row per node state change: planned -> pending -> serving/standby
    assert Counter(actions(cluster, "relaynode.")) == {
        "relaynode.pending": 13,
        "relaynode.serving": 12,
        "relaynode.standby": 1,
    }
    teardown.teardown_cluster(cluster.pk)


def test_ten_percent_boot_failures_are_replaced_and_the_cluster_gets_ready(
    settings, organiser, package_1m
):
    simulate(settings, failure_rate=0.10, seed="ten-percent")
    settings.RELAY_SIM_API_RATE = 5000.0
    settings.RELAY_SIM_API_BURST = 5000
    webinar = confirmed_1m(organiser, package_1m)
    cluster = provision_to_ready(webinar.relay_cluster)
    failed = cluster.incidents.filter(kind=ClusterIncident.Kind.BOOT_FAILED)
    assert 60 < failed.count() < 180  # about 10 % of 1,074 (and of their replacements)
    assert all(i.resolved for i in failed)
    up = cluster.nodes.filter(state__in=RelayNode.UP_STATES)
    assert up.count() == 1074
    assert cluster.nodes.filter(state=N.TERMINATED).count() == failed.count()
    # each slot of the plan holds exactly one live node
    slots = Counter(up.values_list("region", "role", "index"))
    assert set(slots.values()) == {1} and len(slots) == 1074
    assert len(get_provider().describe(cluster.code)) == 1074
    teardown.teardown_cluster(cluster.pk)
    assert get_provider().list_resources(cluster.code) == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_a_cluster_provision_it_once(sim, organiser, package_10k):
    webinar = confirmed(organiser, package_10k)
    cluster = webinar.relay_cluster
    results: list[str] = []
    barrier = threading.Barrier(2)

    def work(name: str) -> None:
        try:
            barrier.wait()
            results.append(provisioning.provision_cluster(cluster.pk, worker=name))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(f"worker-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["claimed", "ready"]
    assert RelayNode.objects.filter(cluster=cluster).count() == 13
    assert len(get_provider().describe(cluster.code)) == 13
    assert actions(cluster, "cluster.provisioning") == ["cluster.provisioning"]
    teardown.teardown_cluster(cluster.pk)


def test_a_stale_claim_is_taken_over_and_finishes_without_duplicates(sim, organiser, package_10k):
    """A worker that died mid-provisioning: its nodes were started, its claim went stale;
    the next worker resumes from the node rows and starts nothing twice."""
    webinar = confirmed(organiser, package_10k)
    cluster = webinar.relay_cluster
    token = provisioning.claim(cluster.pk, worker="dead")
    provider = get_provider()
    nodes.start_planned(clusters.load(cluster.pk), provider, nodes.live_rows(cluster))
    assert provisioning.provision_cluster(cluster.pk, worker="next") == "claimed"  # still fresh
    RelayCluster.objects.filter(pk=cluster.pk).update(
        claimed_at=cluster.created_at - timedelta(minutes=5)
    )
    assert lifecycle.due_for_provisioning() == [cluster.pk]
    assert provisioning.provision_cluster(cluster.pk, worker="next") == C.READY
    assert RelayCluster.objects.get(pk=cluster.pk).claim_token != token
    assert RelayNode.objects.filter(cluster=cluster).count() == 13
    assert len(provider.describe(cluster.code)) == 13
    assert "cluster.reclaimed" in actions(cluster, "cluster.")
    teardown.teardown_cluster(cluster.pk)


def test_beat_provisions_only_clusters_due_at_start_minus_warmup(sim, organiser, package_10k):
    webinar = confirmed(organiser, package_10k)
    cluster = webinar.relay_cluster
    assert (
        lifecycle.provision_due_clusters(now=cluster.provision_after - timedelta(minutes=1)) == []
    )
    assert committed(lifecycle.provision_due_clusters, now=cluster.provision_after) == [cluster.pk]
    assert RelayCluster.objects.get(pk=cluster.pk).state == C.READY  # the task ran (eager)
    teardown.teardown_cluster(cluster.pk)


def test_the_monitor_replaces_an_unhealthy_edge_from_the_spare_and_rewires(
    sim, organiser, package_10k
):
    webinar = confirmed(organiser, package_10k)
    cluster = provision_to_ready(webinar.relay_cluster)
    provider = get_provider()
    victim = cluster.nodes.get(role="edge", index=3)
    spare = cluster.nodes.get(role="spare")
    crash(provider, cluster, victim)
    assert monitoring.monitor_cluster(cluster.pk) == [victim.request_key]
    victim.refresh_from_db()
    spare.refresh_from_db()
    assert victim.state == N.TERMINATED
    assert (spare.role, spare.index, spare.state) == ("edge", 3, N.SERVING)
    assert spare.parent is not None and spare.parent.role == "origin"
    incident = cluster.incidents.get(kind=ClusterIncident.Kind.UNHEALTHY)
    assert incident.node == victim and incident.resolved
    health = provider.health_many(provider.describe(cluster.code))
    assert all(h.ok for h in health.values())  # every edge gets media again
    assert "cluster.rewired" in actions(cluster, "cluster.")
    assert actions(cluster, "relaynode.")[-3:] == [
        "relaynode.failed",
        "relaynode.terminated",
        "relaynode.serving",
    ]
    # a second failure finds no spare: recorded, alerted, routed around
    other = cluster.nodes.get(role="edge", index=4, state=N.SERVING)
    crash(provider, cluster, other)
    mail.outbox.clear()
    committed(monitoring.monitor_cluster, cluster.pk)
    assert cluster.incidents.filter(kind=ClusterIncident.Kind.NO_SPARE).count() == 1
    assert any("no spare left" in m.subject for m in mail.outbox)
    teardown.teardown_cluster(cluster.pk)


def test_teardown_leaves_nothing_at_the_provider(sim, organiser, package_10k):
    webinar = confirmed(organiser, package_10k)
    cluster = provision_to_ready(webinar.relay_cluster)
    assert lifecycle.start_due_webinars(now=after_start(webinar)) == [webinar.code]
    assert teardown.teardown_due_clusters(now=webinar.end_at) == []
    done = webinar.end_at + timedelta(minutes=30)
    assert committed(teardown.teardown_due_clusters, now=done) == [cluster.pk]
    cluster.refresh_from_db()
    assert cluster.state == C.TORN_DOWN and cluster.torn_down_at
    assert get_provider().list_resources(cluster.code) == []
    assert set(cluster.nodes.values_list("state", flat=True)) == {N.TERMINATED}
    assert actions(cluster, "cluster.")[-2:] == ["cluster.draining", "cluster.torn_down"]
    assert not cluster.incidents.filter(kind=ClusterIncident.Kind.LEAK).exists()


def test_a_cancelled_booking_s_cluster_is_torn_down_at_once(sim, organiser, package_10k):
    from django.test import TestCase

    webinar = confirmed(organiser, package_10k)
    cluster = provision_to_ready(webinar.relay_cluster)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.cancel_booking(webinar, actor=organiser, reason="changed plans")
    cluster.refresh_from_db()
    assert cluster.state == C.CANCELLED
    assert get_provider().list_resources(cluster.code) == []


def test_beat_starts_a_ready_cluster_s_webinar_and_completes_it_after_the_end(
    sim, organiser, package_10k
):
    webinar = confirmed(organiser, package_10k)
    cluster = provision_to_ready(webinar.relay_cluster)
    assert lifecycle.start_due_webinars(now=webinar.start_at - timedelta(minutes=1)) == []
    assert lifecycle.start_due_webinars(now=after_start(webinar)) == [webinar.code]
    webinar.refresh_from_db()
    cluster.refresh_from_db()
    assert webinar.status == Webinar.Status.LIVE and cluster.state == C.LIVE
    assert lifecycle.complete_due_webinars(now=webinar.end_at - timedelta(minutes=1)) == []
    assert lifecycle.complete_due_webinars(now=webinar.end_at) == [webinar.code]
    webinar.refresh_from_db()
    assert webinar.status == Webinar.Status.COMPLETED
    teardown.teardown_cluster(cluster.pk)
    report = selectors.usage_report(RelayCluster.objects.get(pk=cluster.pk))
    assert report["peak_nodes"] == 13 and report["time_to_ready_s"] is not None
    assert {(g["region"], g["role"]) for g in report["node_hours"]} == {
        ("us-east", "origin"),
        ("us-east", "edge"),
        ("us-east", "spare"),
    }
    assert report["attendance"] is None  # nothing recorded yet
    AttendanceSummary.objects.create(
        webinar=webinar, registered=9000, attended=8000, peak_concurrent=6500,
        watched_seconds=8000 * 2400, recorded_at=webinar.end_at,
    )  # fmt: skip
    report = selectors.usage_report(RelayCluster.objects.get(pk=cluster.pk))
    assert report["attendance"] == {
        "attended": 8000,
        "peak_concurrent": 6500,
        "viewers_per_node": 500,
    }


def test_a_cluster_not_ready_before_the_start_alerts_event_services_once(
    sim, organiser, package_10k
):
    webinar = confirmed(organiser, package_10k)
    soon = webinar.start_at - timedelta(minutes=5)
    assert lifecycle.check_readiness(now=webinar.start_at - timedelta(minutes=30)) == []
    assert committed(lifecycle.check_readiness, now=soon) == [webinar.code]
    assert lifecycle.check_readiness(now=soon) == []
    webinar.refresh_from_db()
    assert webinar.needs_attention
    assert webinar.relay_cluster.incidents.get().kind == ClusterIncident.Kind.NOT_READY
    assert [m.to for m in mail.outbox if "not ready" in m.subject] == [[sim.EVENT_SERVICES_EMAIL]]
    # and a cluster that is not ready is never started
    assert lifecycle.start_due_webinars(now=after_start(webinar)) == []


def test_a_cluster_projected_to_boot_past_the_start_alerts_as_soon_as_provisioning_is_due(
    sim, organiser, package_10k
):
    """Boots of an hour (a slow cloud day): 30 minutes before the start, long before the
    last-minute check, the projection already passes the start."""
    webinar = confirmed(organiser, package_10k)
    cluster = webinar.relay_cluster
    early = webinar.start_at - timedelta(minutes=30)
    assert cluster.provision_after <= early
    assert lifecycle.check_readiness(now=early) == []  # boots of 60 ms: on course
    sim.RELAY_SIM_TIME_SCALE, sim.RELAY_SIM_BOOT_MEAN_S = 1.0, 3600.0
    provider = get_provider("simulated")
    projected = selectors.projected_ready_at(cluster, provider, now=early)
    assert projected > webinar.start_at
    assert committed(lifecycle.check_readiness, now=early) == [webinar.code]
    incident = cluster.incidents.get()
    assert incident.kind == ClusterIncident.Kind.NOT_READY and "projected" in incident.detail
    assert Webinar.objects.get(pk=webinar.pk).needs_attention
    assert lifecycle.check_readiness(now=early) == []  # once


def test_a_cluster_with_nothing_left_to_boot_projects_nothing(sim, organiser, package_10k):
    cluster = provision_to_ready(confirmed(organiser, package_10k).relay_cluster)
    now = cluster.webinar.start_at - timedelta(minutes=30)
    assert selectors.projected_ready_at(cluster, get_provider("simulated"), now=now) is None


def test_cost_is_node_hours_times_the_rate_of_region_and_role(sim, organiser, package_10k):
    sim.RELAY_HOURLY_RATES = {
        "default": {"origin": 100, "edge": 200, "spare": 50},
        "us-east": {"edge": 300},
    }
    webinar = confirmed(organiser, package_10k)
    assert selectors.cluster_cost(webinar) is None  # nothing ran yet
    cluster = provision_to_ready(webinar.relay_cluster)
    start = cluster.ready_at
    RelayNode.objects.filter(cluster=cluster).update(
        started_at=start, terminated_at=start + timedelta(hours=2)
    )
    cost = selectors.cluster_cost(webinar)
    assert cost.minor == 2 * (2 * 100 + 10 * 300 + 1 * 50)
    assert cost.node_hours == 26 and cost.currency == webinar.currency
    teardown.teardown_cluster(cluster.pk)
