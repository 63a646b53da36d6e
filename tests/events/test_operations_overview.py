"""The operations overview, the admin's start page for Event Services: the week's confirmed
and live webinars and every open flag, flagged first, each with its cluster, team and
rehearsal and links to act; staff only, in a bounded number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from events.models import Assignment, RelayCluster, RelayNode
from events.selectors import team as team_selectors
from events.selectors.operations import operations_overview
from events.services import rehearsals
from tests.conftest import hold, local_start
from webinars import services
from webinars.models import Package, Webinar

pytestmark = pytest.mark.django_db


def _confirmed(user, package: Package, days: int, capture, **overrides) -> Webinar:
    """Held and confirmed, with the on-commit work (the cluster's plan, the invitations)."""
    with capture(execute=True):
        webinar = hold(user, package, start_local=local_start(days=days), **overrides)
        services.confirm_booking(webinar, actor=None)
    return Webinar.objects.get(pk=webinar.pk)


def _rows(html: str) -> dict[str, str]:
    """Each overview row's HTML by webinar code, in page order."""
    body = html.split('id="operations-overview"')[1].split("</table>")[0]
    rows = {}
    for chunk in body.split('<tr class="item')[1:]:
        code = chunk.split('data-code="')[1].split('"')[0]
        rows[code] = chunk.split("</tr>")[0]
    return rows


@pytest.fixture
def week(organiser, outsider, package_10k, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    # Packages with a technical lead (the rehearsal) and with three roles (the team's fill).
    # A day past each notice (50k: 3, 100k: 5): a start at 15:00 local on the last day fails late.
    soon = _confirmed(organiser, Package.objects.get(code="50k"), 4, capture, title="Soon")
    later = _confirmed(outsider, Package.objects.get(code="100k"), 6, capture, title="Later")
    flagged = _confirmed(organiser, package_10k, 6, capture, title="Flagged")
    services.flag_webinar(flagged, actor=None, reason="No stream engineer free")
    far = _confirmed(organiser, package_10k, 9, capture, title="Next week")
    far_flagged = _confirmed(outsider, package_10k, 20, capture, title="Far but flagged")
    services.flag_webinar(far_flagged, actor=None, reason="Dispute opened")
    unpaid = hold(organiser, package_10k, start_local=local_start(days=3), title="Unpaid")
    return {
        "soon": soon,
        "later": later,
        "flagged": Webinar.objects.get(pk=flagged.pk),
        "far": far,
        "far_flagged": Webinar.objects.get(pk=far_flagged.pk),
        "unpaid": unpaid,
    }


def test_flagged_first_then_by_start_within_seven_days(client, staff, week):
    client.force_login(staff)
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    rows = _rows(page.content.decode())
    assert list(rows) == [
        week["flagged"].code,
        week["far_flagged"].code,  # an open flag shows whenever the event is
        week["soon"].code,
        week["later"].code,
    ]
    # A webinar in 9 days without a flag, and a hold not yet paid, are not on it.
    assert week["far"].code not in rows and week["unpaid"].code not in rows
    assert "No stream engineer free" in rows[week["flagged"].code]
    assert "Dispute opened" in rows[week["far_flagged"].code]
    assert "Flagged" not in rows[week["soon"].code]
    # The app list is still below it.
    assert page.content.decode().index("operations-overview") < page.content.decode().index(
        "app-events"
    )


def test_each_item_shows_cluster_team_and_rehearsal(client, staff, organiser, week):
    soon, later = week["soon"], week["later"]
    cluster = RelayCluster.objects.get(webinar=soon)
    # The cluster is coming up: two of its planned nodes serve (as provisioning records it).
    nodes = list(cluster.nodes.order_by("pk").values_list("pk", flat=True)[:2])
    assert len(nodes) == 2
    RelayNode.objects.filter(pk__in=nodes).update(state=RelayNode.State.SERVING)
    RelayCluster.objects.filter(pk=cluster.pk).update(state=RelayCluster.State.READY)
    # Later: one person of the team declined (nobody replaced them yet), one accepted.
    team = list(team_selectors.active_team(later))
    needed = len(team)
    assert needed == 3  # 100k: producer, technical lead, moderator
    team[0].status = Assignment.Status.DECLINED
    team[0].save(update_fields=["status"])
    Assignment.objects.filter(pk=team[1].pk).update(accepted_at=timezone.now())
    # Soon: the organiser booked the rehearsal with the technical lead.
    lead = team_selectors.technical_lead(soon)
    slot = team_selectors.rehearsal_slots(soon, lead.staff_id)[0]
    rehearsals.book_rehearsal(soon, actor=organiser, starts_at=slot)

    items = {item.webinar.code: item for item in operations_overview()}
    first = items[soon.code]
    assert (first.cluster.state, first.cluster.nodes_up) == ("ready", 2)
    assert first.cluster.nodes_planned == cluster.planned_nodes
    # 50k: a producer and a technical lead, invited at confirmation, none accepted yet.
    assert first.roles_filled == first.roles_needed == 2 and first.team_complete
    assert first.pending_acceptances == 2
    assert first.rehearsal_at == slot
    second = items[later.code]
    assert second.cluster.state == "planned" and second.cluster.nodes_up == 0
    assert (second.roles_filled, second.roles_needed) == (needed - 1, needed)
    assert second.open_roles == [team[0].role]
    assert second.pending_acceptances == needed - 2  # one declined, one accepted
    assert second.rehearsal_at is None

    client.force_login(staff)
    rows = _rows(client.get(reverse("admin:index")).content.decode())
    assert f"Ready</a>, 2/{cluster.planned_nodes} nodes up" in rows[soon.code]
    assert "2/2 roles filled" in rows[soon.code]
    assert "booked " in rows[soon.code] and "not booked" in rows[later.code]
    assert f"{needed - 1}/{needed} roles filled" in rows[later.code]
    assert f"open: {team[0].role}" in rows[later.code]
    # The start in UTC and in the webinar's own zone.
    assert " UTC<br>" in rows[soon.code] and "(America/New_York)" in rows[soon.code]
    assert "Acme Campaigns Inc" in rows[soon.code] and "Rival Media LLC" in rows[later.code]
    assert soon.package.name in rows[soon.code]


def test_links_lead_where_to_act(client, staff, week):
    soon, later = week["soon"], week["later"]
    client.force_login(staff)
    row = _rows(client.get(reverse("admin:index")).content.decode())[soon.code]
    cluster = RelayCluster.objects.get(webinar=soon)
    webinar_url = reverse("admin:webinars_webinar_change", args=[soon.pk])
    cluster_url = reverse("admin:events_relaycluster_change", args=[cluster.pk])
    team_url = f"{reverse('admin:events_assignment_changelist')}?webinar__id__exact={soon.pk}"
    for url in (webinar_url, cluster_url, team_url):
        assert f'href="{url}"' in row
        assert client.get(url).status_code == 200
    # The team link lists this webinar's assignments only.
    listed = client.get(team_url).context["cl"].queryset
    assert listed.exists() and set(listed.values_list("webinar_id", flat=True)) == {soon.pk}
    assert later.pk not in set(listed.values_list("webinar_id", flat=True))
    # The page of its own shows the same table.
    own = client.get(reverse("events:operations"))
    assert own.status_code == 200 and list(_rows(own.content.decode()))[:1] == [
        week["flagged"].code
    ]


def test_non_staff_cannot_see_it(client, organiser, week, rf):
    from events.views.operations import operations_section

    client.force_login(organiser)
    for url in (reverse("admin:index"), reverse("events:operations")):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
        assert week["flagged"].code not in response.content.decode()
    # The section itself renders nothing for someone who is not staff.
    request = rf.get("/admin/")
    request.user = organiser
    assert operations_section(request) == ""


def test_queries_do_not_grow_with_the_webinars(
    client, staff, organiser, package_10k, week, django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_assert_max_num_queries(2):
        items = operations_overview()
        # Every fact the page shows is loaded by then.
        facts = [
            (
                i.cluster and i.cluster.nodes_up,
                i.roles_filled,
                i.rehearsal_at,
                i.webinar.package.name,
                i.webinar.organisation.legal_name,
            )
            for i in items
        ]
    assert len(facts) == 4
    client.force_login(staff)
    with CaptureQueriesContext(connection) as before:
        assert client.get(reverse("admin:index")).status_code == 200
    for days in (3, 5, 6):
        _confirmed(organiser, package_10k, days, django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as after:
        page = client.get(reverse("admin:index"))
    assert len(_rows(page.content.decode())) == 7
    assert len(after.captured_queries) == len(before.captured_queries)


def test_nothing_to_show(client, staff):
    client.force_login(staff)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="operations-empty"' in page


def test_a_live_webinar_that_began_stays_until_it_ends(week):
    soon = week["soon"]
    Webinar.objects.filter(pk=soon.pk).update(
        status=Webinar.Status.LIVE,
        start_at=timezone.now() - timedelta(minutes=30),
        occupied_from=timezone.now() - timedelta(minutes=90),
    )
    codes = [item.webinar.code for item in operations_overview()]
    assert soon.code in codes
    Webinar.objects.filter(pk=soon.pk).update(occupied_until=timezone.now() - timedelta(minutes=1))
    assert soon.code not in [item.webinar.code for item in operations_overview()]
