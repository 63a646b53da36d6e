"""The organiser's "Relay cluster" panel on the webinar page (registered in
EventsConfig.ready) and its htmx refresh, which polls only while the cluster is on its way
to ready (planned or provisioning) and stops at any other state."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from events.models import RelayCluster
from events.selectors import relays as selectors
from webinars.models import Webinar
from webinars.selectors import get_webinar_for_user

POLLING_STATES = (RelayCluster.State.PLANNED, RelayCluster.State.PROVISIONING)
REPORT_STATES = (RelayCluster.State.TORN_DOWN, RelayCluster.State.CANCELLED)


def cluster_panel(request: HttpRequest, webinar: Webinar) -> str:
    cluster = selectors.cluster_of(webinar)
    if cluster is None:
        return ""
    up, planned = selectors.progress(cluster)
    completed = webinar.status == Webinar.Status.COMPLETED or cluster.state in REPORT_STATES
    return render_to_string(
        "events/_cluster_panel.html",
        {
            "webinar": webinar,
            "cluster": cluster,
            "up": up,
            "planned": planned,
            "percent": round(100 * up / planned) if planned else 0,
            "groups": selectors.group_rows(cluster),
            "incidents": selectors.incidents(cluster),
            "polling": cluster.state in POLLING_STATES,
            "report": selectors.usage_report(cluster) if completed and cluster.ready_at else None,
        },
        request=request,
    )


@login_required
@require_GET
def cluster_panel_view(request: HttpRequest, code: str) -> HttpResponse:
    webinar = get_webinar_for_user(request.user, code)
    return HttpResponse(cluster_panel(request, webinar))
