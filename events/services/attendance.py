"""Attendance around the join path: publishing each webinar's admission config to Redis
(so joining never reads SQL), beat's sweep of stale seats, and the attendance summary kept
in PostgreSQL when the webinar completes.

The config is a projection of SQL, not a state change: publishing writes no audit row and
is safe to repeat. It is published when the booking is confirmed (doors, capacity; no edges
yet) and by beat every 30 s while the webinar is near (the edges that serve now: a replaced
node's successor is picked up within a beat), and removed when the booking is cancelled.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from events.models import AttendanceSummary, RelayCluster, RelayNode
from events.providers.base import Role
from events.selectors.attendance import live_figures, registered_by_region
from events.services import admission
from webinars import audit
from webinars.models import Region, Webinar

W = Webinar.Status
ADMITTING = (W.CONFIRMED, W.LIVE)
# Beat republishes webinars whose doors open within this horizon, until their end.
PUBLISH_AHEAD = timedelta(hours=3)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _distance_km(a: Region, b: Region) -> float:
    """Great-circle distance between two regions' reference points (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 12_742 * math.asin(math.sqrt(h))


def routes(edges_by_region: dict[str, int]) -> dict[str, list[str]]:
    """For every region: the regions that have serving edges, nearest first (itself first
    when it has edges). "*" (an unknown region): the regions with the most edges first."""
    serving = [r for r, count in edges_by_region.items() if count]
    regions = {r.code: r for r in Region.objects.all()}
    table: dict[str, list[str]] = {
        "*": sorted(serving, key=lambda r: (-edges_by_region[r], r)),
    }
    for code, region in regions.items():
        table[code] = sorted(
            serving,
            key=lambda r: (_distance_km(region, regions[r]) if r in regions else 1e9, r),
        )
    return table


def serving_edges(webinar: Webinar) -> list[tuple[str, str, str]]:
    """(edge id, region, endpoint) of the cluster's edges that serve now. The endpoint is
    the provider's address of the node (empty in the cloud simulation, which has none)."""
    cluster = RelayCluster.objects.filter(webinar=webinar).first()
    if cluster is None or cluster.is_final:
        return []
    return list(
        RelayNode.objects.filter(cluster=cluster, role=Role.EDGE, state=RelayNode.State.SERVING)
        .order_by("region", "index", "generation")
        .values_list("request_key", "region", "endpoint")
    )


def publish_admission(webinar_id: int) -> int | None:
    """Publish (or refresh) the admission config of a confirmed or live webinar; a webinar
    in any other state is unpublished. Returns the number of serving edges published, or
    None when it was unpublished."""
    webinar = Webinar.objects.get(pk=webinar_id)
    if webinar.status not in ADMITTING:
        unpublish_admission(webinar.code)
        return None
    edges = serving_edges(webinar)
    per_region: dict[str, int] = defaultdict(int)
    for _edge, region, _endpoint in edges:
        per_region[region] += 1
    opens = webinar.start_at - timedelta(minutes=settings.ATTENDEE_DOORS_OPEN_MINUTES)
    expire_at = webinar.end_at + timedelta(hours=settings.ATTENDEE_REDIS_RETENTION_HOURS)
    admission.script("admission_publish")(
        keys=admission.script_keys(webinar.code),
        args=[
            webinar.capacity,
            _ms(opens),
            _ms(webinar.end_at),
            settings.ATTENDEE_SEAT_TTL_S * 1000,
            settings.SIZING_VIEWERS_PER_EDGE,
            json.dumps(routes(per_region)),
            json.dumps([list(e) for e in edges]),
            _ms(expire_at),
            webinar.title,
            webinar.time_zone,
            _ms(webinar.start_at),
        ],
    )
    return len(edges)


def unpublish_admission(code: str) -> None:
    """Doors closed for good (booking cancelled): joins answer "closed" from now on."""
    admission.admission_redis().delete(admission.key(code, "cfg"))


def due_webinars(*, now: datetime | None = None) -> list[Webinar]:
    """Confirmed or live webinars whose doors open within PUBLISH_AHEAD, until their end
    (plus one seat TTL, so the last seats are swept)."""
    now = now or timezone.now()
    doors = timedelta(minutes=settings.ATTENDEE_DOORS_OPEN_MINUTES)
    candidates = Webinar.objects.filter(
        status__in=ADMITTING, start_at__lte=now + PUBLISH_AHEAD + doors
    ).only("pk", "code", "start_at", "duration_minutes")
    grace = timedelta(seconds=settings.ATTENDEE_SEAT_TTL_S)
    return [w for w in candidates if w.end_at + grace > now]


def publish_due_admissions(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: republish every due webinar's config and sweep its stale seats. Returns
    code -> seats released."""
    swept: dict[str, int] = {}
    for webinar in due_webinars(now=now):
        publish_admission(webinar.pk)
        swept[webinar.code] = admission.sweep_seats(
            webinar.code, now=now.timestamp() if now else None
        )
    return swept


def record_attendance(webinar_id: int, *, now: datetime | None = None) -> AttendanceSummary:
    """Keep the webinar's attendance in PostgreSQL (registered from SQL, the rest from
    Redis). Idempotent: a second call rewrites the summary with the newest figures."""
    now = now or timezone.now()
    with transaction.atomic():
        webinar = Webinar.objects.select_for_update().get(pk=webinar_id)
        live = live_figures(webinar.code)
        registered = registered_by_region(webinar)
        attended: dict[str, int] = live["attended_by_region"]  # type: ignore[assignment]
        watched: dict[str, int] = live["watched_ms_by_region"]  # type: ignore[assignment]
        regions = sorted(set(registered) | set(attended) | set(watched))
        summary, created = AttendanceSummary.objects.update_or_create(
            webinar=webinar,
            defaults={
                "registered": sum(registered.values()),
                "attended": sum(attended.values()),
                "peak_concurrent": live["peak"],
                "watched_seconds": sum(watched.values()) // 1000,
                "by_region": [
                    {
                        "region": r,
                        "registered": registered.get(r, 0),
                        "attended": attended.get(r, 0),
                        "watched_s": watched.get(r, 0) // 1000,
                    }
                    for r in regions
                ],
                "series": [list(point) for point in live["series"]],  # type: ignore[attr-defined]
                "recorded_at": now,
            },
        )
        audit.record(
            "attendance.recorded",
            summary,
            actor=None,
            webinar=webinar,
            data={
                "registered": summary.registered,
                "attended": summary.attended,
                "peak": summary.peak_concurrent,
                "again": not created,
            },
        )
    return summary
