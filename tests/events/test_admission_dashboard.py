"""Attendance around the join path: the admission config published from SQL (edges of the
ready cluster, nearest regions), the organiser's live dashboard, and the attendance report
and its CSV kept in PostgreSQL at completion; another organisation gets 404s throughout."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import TestCase
from django.urls import reverse

from events.models import AttendanceSummary, Registrant
from events.services import admission, attendance
from events.tokens import JoinClaim
from tests.events.cluster_helpers import confirmed, provision_to_ready, simulate
from webinars import services as webinar_services
from webinars.models import AuditEntry, Webinar


@pytest.fixture
def webinar(settings, organiser, package_10k) -> Webinar:
    simulate(settings)
    return confirmed(organiser, package_10k)


def doors_open(webinar: Webinar) -> float:
    return (webinar.start_at - timedelta(minutes=5)).timestamp()


def register(webinar: Webinar, n: int, region: str) -> list[Registrant]:
    return [
        Registrant.objects.create(
            webinar=webinar, name=f"R{i}", email=f"r{i}.{region}@example.com", region=region
        )
        for i in range(n)
    ]


def join(webinar: Webinar, registrant: Registrant, now: float) -> admission.SeatAnswer:
    claim = JoinClaim(webinar.code, registrant.pk, registrant.region)
    return admission.take_seat(claim, now=now)


def test_routes_list_the_regions_with_edges_nearest_first(catalogue):
    table = attendance.routes({"us-east": 3, "eu-west": 2, "eu-central": 1, "ap-south": 0})
    assert table["eu-west"] == ["eu-west", "eu-central", "us-east"]
    assert table["us-west"] == ["us-east", "eu-west", "eu-central"]
    assert table["ap-south"][0] == "eu-central"  # no edges of its own: the nearest region
    assert table["*"] == ["us-east", "eu-west", "eu-central"]


def test_confirmation_publishes_the_doors_and_readiness_the_edges(webinar):
    config = admission.admission_redis().hgetall(admission.key(webinar.code, "cfg"))
    assert int(config[b"capacity"]) == webinar.capacity == 10_000
    opens = webinar.start_at - timedelta(minutes=15)
    assert int(config[b"opens_ms"]) == int(opens.timestamp() * 1000)
    assert int(config[b"ends_ms"]) == int(webinar.end_at.timestamp() * 1000)
    registrant = register(webinar, 1, "us-east")[0]
    assert join(webinar, registrant, doors_open(webinar)).status == "preparing"  # no edges yet

    provision_to_ready(webinar.relay_cluster)  # publishes the serving edges on commit
    edges = admission.admission_redis().hgetall(admission.key(webinar.code, "ep"))
    assert len(edges) == 10  # the simulation's nodes have no address: empty endpoints
    seated = join(webinar, registrant, doors_open(webinar))
    assert seated.status == "admitted" and seated.edge.encode() in edges


def test_a_cancelled_booking_closes_the_doors(webinar):
    with TestCase.captureOnCommitCallbacks(execute=True):
        webinar_services.cancel_booking(webinar, actor=None, reason="test")
    registrant = register(webinar, 1, "us-east")[0]
    assert join(webinar, registrant, doors_open(webinar)).status == "closed"


def test_beat_republishes_near_webinars_and_sweeps_stale_seats(webinar):
    provision_to_ready(webinar.relay_cluster)
    registrant = register(webinar, 1, "us-east")[0]
    now = doors_open(webinar)
    join(webinar, registrant, now)
    from datetime import UTC, datetime

    later = datetime.fromtimestamp(now + 120, tz=UTC)
    assert attendance.publish_due_admissions(now=later) == {webinar.code: 1}
    assert admission.admission_redis().zcard(admission.key(webinar.code, "seen")) == 0


def test_the_live_dashboard_shows_registered_joined_peak_regions_and_edges(
    webinar, client, organiser
):
    provision_to_ready(webinar.relay_cluster)
    people = register(webinar, 3, "us-east") + register(webinar, 1, "eu-west")
    for person in people[:3]:
        join(webinar, person, doors_open(webinar))
    client.force_login(organiser)
    page = client.get(reverse("webinars:detail", args=[webinar.code])).content.decode()
    assert 'id="attendance-panel"' in page
    assert "<strong>4</strong> registered · <strong>3</strong> joined now of 10,000 seats" in page
    assert "peak <strong>3</strong>" in page
    assert "<td>eu-west</td><td>1</td><td>0</td><td>0</td>" in page
    assert "<td>us-east</td><td>3</td><td>3</td><td>3</td>" in page
    assert 'id="attendance-edges"' in page and '<svg id="attendance-chart"' in page
    panel = client.get(reverse("events:attendance_panel", args=[webinar.code]))
    assert panel.status_code == 200 and "joined now" in panel.content.decode()


def test_at_completion_the_report_is_kept_in_postgres_with_a_csv(webinar, client, organiser):
    provision_to_ready(webinar.relay_cluster)
    people = register(webinar, 2, "us-east") + register(webinar, 2, "eu-west")
    now = doors_open(webinar)
    seats = [join(webinar, p, now) for p in people[:3]]
    for minute in range(1, 11):  # ten minutes of heartbeats for the first two
        for person, seat in zip(people[:2], seats[:2], strict=True):
            claim = JoinClaim(webinar.code, person.pk, person.region)
            admission.refresh_seat(claim, session=seat.session, now=now + 60 * minute)
    summary = attendance.record_attendance(webinar.pk)
    assert (summary.registered, summary.attended, summary.peak_concurrent) == (4, 3, 3)
    assert summary.watched_seconds == 2 * 600 and round(summary.average_minutes, 1) == 6.7
    assert actions_of(webinar, "attendance.") == ["attendance.recorded"]

    for key in admission.webinar_keys(webinar.code):  # Redis forgets; the report stays
        admission.admission_redis().delete(key)
    Webinar.objects.filter(pk=webinar.pk).update(status=Webinar.Status.COMPLETED)
    client.force_login(organiser)
    page = client.get(reverse("webinars:detail", args=[webinar.code])).content.decode()
    assert "Attendance report" in page and "<strong>3</strong> attended" in page
    assert "<td>us-east</td><td>2</td><td>2</td><td>10.0</td>" in page
    response = client.get(reverse("events:attendance_csv", args=[webinar.code]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["region", "registered", "attended", "average_minutes_watched"]
    assert ["eu-west", "2", "1", "0.0"] in rows and ["us-east", "2", "2", "10.0"] in rows
    assert ["total", "4", "3", "6.7"] in rows


def actions_of(webinar: Webinar, prefix: str) -> list[str]:
    return list(
        AuditEntry.objects.filter(webinar=webinar, action__startswith=prefix).values_list(
            "action", flat=True
        )
    )


def test_completion_records_the_attendance(webinar):
    with TestCase.captureOnCommitCallbacks(execute=True):
        webinar_services.complete_webinar(webinar, actor=None)
    assert AttendanceSummary.objects.filter(webinar=webinar).exists()


def test_no_csv_before_the_report_exists(webinar, client, organiser):
    client.force_login(organiser)
    assert client.get(reverse("events:attendance_csv", args=[webinar.code])).status_code == 404


def test_another_organisation_gets_404s_and_staff_see_everything(webinar, client, outsider, staff):
    attendance.record_attendance(webinar.pk)
    names = ("events:attendance_panel", "events:attendance", "events:attendance_csv")
    client.force_login(outsider)
    for name in names:
        assert client.get(reverse(name, args=[webinar.code])).status_code == 404, name
        assert client.get(reverse(name, args=["W-NOPE\x00"])).status_code == 404, name
    client.force_login(staff)
    for name in names:
        assert client.get(reverse(name, args=[webinar.code])).status_code == 200, name
    client.logout()
    for name in names:
        assert client.get(reverse(name, args=[webinar.code])).status_code == 302, name


def test_event_services_staff_reach_the_dashboard_from_the_cluster_admin(webinar, client, staff):
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    from webinars.models import User

    # Transactional tests flush what migrations created; grant again (idempotent).
    importlib.import_module("events.migrations.0006_admission").grant(apps, None)
    url = reverse("events:attendance", args=[webinar.code])
    client.force_login(staff)
    cluster_page = client.get(
        reverse("admin:events_relaycluster_change", args=[webinar.relay_cluster.pk])
    )
    assert url in cluster_page.content.decode()
    member = User.objects.create_user(
        email="events@megawebinar.example", password="pw-events-1", is_staff=True
    )
    member.groups.add(Group.objects.get(name="Event Services"))  # granted by 0006
    client.force_login(member)
    assert client.get(url).status_code == 200
    other_staff = User.objects.create_user(
        email="other@megawebinar.example", password="pw-other-1", is_staff=True
    )
    client.force_login(other_staff)
    assert client.get(url).status_code == 404  # staff, but not allowed to see attendance
