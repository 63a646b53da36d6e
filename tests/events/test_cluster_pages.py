"""The organiser's Relay cluster panel and the staff admin for clusters and nodes."""

from datetime import timedelta

import pytest
from django.urls import reverse

from events.models import AttendanceSummary, ClusterIncident, RelayCluster, RelayNode
from events.providers.base import get_provider
from events.services import teardown
from tests.events.cluster_helpers import actions, confirmed, provision_to_ready, simulate
from webinars.formatting import format_in_zone
from webinars.models import AuditEntry

C = RelayCluster.State
N = RelayNode.State


@pytest.fixture
def sim(settings):
    simulate(settings)
    return settings


def test_the_panel_polls_while_planned_and_shows_the_plan(sim, client, organiser, package_10k):
    webinar = confirmed(organiser, package_10k)
    client.force_login(organiser)
    page = client.get(reverse("webinars:detail", args=[webinar.code])).content.decode()
    assert "Relay cluster" in page and 'id="relay-cluster-panel"' in page
    assert "0 of 13 nodes serving" in page
    assert reverse("events:panel", args=[webinar.code]) in page  # hx-get while planned
    assert "<td>us-east</td><td>edge</td><td>10</td>" in page


def test_the_panel_shows_ready_time_in_the_webinar_zone_and_stops_polling(
    sim, client, organiser, package_10k
):
    webinar = confirmed(organiser, package_10k)
    cluster = provision_to_ready(webinar.relay_cluster)
    client.force_login(organiser)
    panel = client.get(reverse("events:panel", args=[webinar.code])).content.decode()
    assert "13 of 13 nodes serving" in panel
    assert format_in_zone(cluster.ready_at, webinar.time_zone) in panel
    assert "hx-get" not in panel
    teardown.teardown_cluster(cluster.pk)


def test_the_panel_shows_incidents_and_after_the_event_the_usage_report(
    sim, client, organiser, package_10k
):
    webinar = confirmed(organiser, package_10k)
    cluster = provision_to_ready(webinar.relay_cluster)
    ClusterIncident.objects.create(cluster=cluster, kind="unhealthy", detail="edge 3 went dark")
    teardown.teardown_cluster(cluster.pk)
    client.force_login(organiser)
    panel = client.get(reverse("events:panel", args=[webinar.code])).content.decode()
    assert "edge 3 went dark" in panel
    assert "Usage report" in panel and "peak 13 nodes serving" in panel
    assert "relay-attendance" not in panel  # no attendance recorded
    AttendanceSummary.objects.create(
        webinar=webinar, registered=10, attended=7, peak_concurrent=6500,
        watched_seconds=7 * 600, recorded_at=webinar.end_at,
    )  # fmt: skip
    panel = client.get(reverse("events:panel", args=[webinar.code])).content.decode()
    assert "peak 6500 viewers at once, 500 per node serving at the peak" in panel


def test_the_panel_of_another_organisation_is_a_404(sim, client, organiser, outsider, package_10k):
    webinar = confirmed(organiser, package_10k)
    client.force_login(outsider)
    assert client.get(reverse("events:panel", args=[webinar.code])).status_code == 404
    assert client.get(reverse("events:panel", args=["W-NOPE\x00"])).status_code == 404
    client.logout()
    assert client.get(reverse("events:panel", args=[webinar.code])).status_code == 302


def test_a_webinar_without_a_cluster_shows_no_panel(sim, client, organiser, package_10k):
    from tests.conftest import hold

    webinar = hold(organiser, package_10k)
    client.force_login(organiser)
    page = client.get(reverse("webinars:detail", args=[webinar.code])).content.decode()
    assert "relay-cluster-panel" not in page


def _act(client, model: str, action: str, pks: list[int]):
    return client.post(
        reverse(f"admin:events_{model}_changelist"),
        {"action": action, "_selected_action": [str(p) for p in pks]},
        follow=True,
    )


def test_admin_provision_now_and_tear_down_now(sim, client, staff, organiser, package_10k):
    webinar = confirmed(organiser, package_10k)
    cluster = webinar.relay_cluster
    client.force_login(staff)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = _act(client, "relaycluster", "provision_now", [cluster.pk])
    assert response.status_code == 200
    cluster.refresh_from_db()
    assert cluster.state == C.READY
    page = client.get(reverse("admin:events_relaycluster_change", args=[cluster.pk]))
    assert page.status_code == 200 and cluster.nodes.first().request_key in page.content.decode()
    assert (
        client.get(
            reverse("admin:events_relaycluster_changelist") + "?state=ready&region=us-east"
        ).status_code
        == 200
    )
    _act(client, "relaycluster", "tear_down_now", [cluster.pk])
    cluster.refresh_from_db()
    assert cluster.state == C.TORN_DOWN
    assert get_provider().list_resources(cluster.code) == []
    entry = AuditEntry.objects.filter(action="cluster.draining", webinar=webinar).get()
    assert entry.actor == staff


def test_admin_replace_node_promotes_the_spare(sim, client, staff, organiser, package_10k):
    webinar = confirmed(organiser, package_10k)
    cluster = provision_to_ready(webinar.relay_cluster)
    edge = cluster.nodes.get(role="edge", index=0)
    client.force_login(staff)
    response = _act(client, "relaynode", "replace_node", [edge.pk])
    assert "replaced by" in response.content.decode()
    edge.refresh_from_db()
    assert edge.state == N.TERMINATED
    promoted = cluster.nodes.get(role="edge", index=0, state=N.SERVING)
    assert promoted.request_key.startswith(f"{cluster.code}/us-east/spare/")
    assert promoted.parent is not None
    assert AuditEntry.objects.filter(action="relaynode.failed", actor=staff).count() == 1
    assert "cluster.rewired" in actions(cluster, "cluster.")
    # a node that is not up is refused with a message, nothing changes
    response = _act(client, "relaynode", "replace_node", [edge.pk])
    assert "not replaced" in response.content.decode()
    teardown.teardown_cluster(cluster.pk)


def test_due_clusters_are_not_provisioned_early_by_beat(sim, organiser, package_10k):
    from events.services import lifecycle

    webinar = confirmed(organiser, package_10k)
    assert lifecycle.due_for_provisioning(now=webinar.start_at - timedelta(hours=2)) == []
