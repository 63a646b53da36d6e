"""Reads of attendance: the join page's view of the doors (Redis only), the live dashboard
(registered from PostgreSQL, the rest from Redis), the report after the event, and the one
permission-checking fetch for them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Count
from django.http import Http404

from events.models import AttendanceSummary, Registrant
from events.services import admission
from webinars.models import User, Webinar
from webinars.selectors import get_webinar_for_user


@dataclass(frozen=True)
class JoinConfig:
    """What the join page needs of a webinar, read from Redis (published by events)."""

    title: str
    time_zone: str
    start_at: datetime
    opens_at: datetime
    ends_at: datetime
    revoked: bool


def _moment(ms: bytes | None) -> datetime:
    return datetime.fromtimestamp(int(ms or 0) / 1000, tz=UTC)


def join_config(code: str, registrant_id: int) -> JoinConfig | None:
    """The doors of webinar `code` as published, and whether this registrant's link was
    revoked: one round trip, no SQL. None when nothing is published (unknown, cancelled)."""
    pipe = admission.admission_redis().pipeline(transaction=False)
    pipe.hmget(admission.key(code, "cfg"), "title", "time_zone", "start_ms", "opens_ms", "ends_ms")
    pipe.sismember(admission.key(code, "revoked"), registrant_id)
    (title, zone, start, opens, ends), revoked = pipe.execute()
    if opens is None:
        return None
    return JoinConfig(
        title=(title or b"").decode(),
        time_zone=(zone or b"UTC").decode(),
        start_at=_moment(start),
        opens_at=_moment(opens),
        ends_at=_moment(ends),
        revoked=bool(revoked),
    )


def _int_hash(raw: dict[bytes, bytes]) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in raw.items()}


def live_figures(code: str) -> dict[str, object]:
    """What Redis knows of a webinar's attendance now (one pipeline, no SQL)."""
    client = admission.admission_redis()
    pipe = client.pipeline(transaction=False)
    for name in ("stats", "attreg", "watch", "rload", "load", "er"):
        pipe.hgetall(admission.key(code, name))
    pipe.zrange(admission.key(code, "conc"), 0, -1, withscores=True)
    pipe.zcard(admission.key(code, "seen"))
    pipe.hget(admission.key(code, "cfg"), "capacity")
    stats, attreg, watch, rload, load, er, conc, joined, capacity = pipe.execute()
    edge_region = {k.decode(): v.decode() for k, v in er.items()}
    series = sorted((int(minute) * 60, int(count)) for minute, count in conc)
    return {
        "joined_now": int(joined),
        "capacity": int(capacity) if capacity else None,
        "peak": max((count for _at, count in series), default=0),
        "stats": _int_hash(stats),
        "attended_by_region": _int_hash(attreg),
        "watched_ms_by_region": _int_hash(watch),
        "series": series,
        "viewers_by_region": {r: n for r, n in _int_hash(rload).items() if n > 0},
        "viewers_by_edge": sorted(
            (edge_region.get(edge, "?"), edge, n) for edge, n in _int_hash(load).items() if n
        ),
    }


def registered_by_region(webinar: Webinar) -> dict[str, int]:
    rows = (
        Registrant.objects.filter(webinar=webinar)
        .values("region")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["region"] or "unknown": row["n"] for row in rows}


def get_webinar_for_attendance(user: User, code: str) -> Webinar:
    """The organiser's own webinar (404 for another organisation's, as everywhere), or any
    webinar for Event Services staff who may view attendance."""
    if user.is_authenticated and user.is_staff and user.has_perm("events.view_attendancesummary"):
        webinar = Webinar.objects.filter(code=code.replace("\x00", "")).first()
        if webinar is None:
            raise Http404("No such webinar.")
        return webinar
    return get_webinar_for_user(user, code)


@dataclass(frozen=True)
class RegionRow:
    region: str
    registered: int
    attended: int
    watching: int = 0
    average_minutes: float = 0.0


@dataclass
class Dashboard:
    registered: int
    joined_now: int
    peak: int
    capacity: int | None
    regions: list[RegionRow] = field(default_factory=list)
    edges: list[tuple[str, str, int]] = field(default_factory=list)
    series: list[tuple[int, int]] = field(default_factory=list)


def dashboard(webinar: Webinar) -> Dashboard:
    """The live dashboard: registered (SQL), joined now, peak, per region and per edge."""
    registered = registered_by_region(webinar)
    live = live_figures(webinar.code)
    attended: dict[str, int] = live["attended_by_region"]  # type: ignore[assignment]
    watching: dict[str, int] = live["viewers_by_region"]  # type: ignore[assignment]
    regions = sorted(set(registered) | set(attended) | set(watching))
    return Dashboard(
        registered=sum(registered.values()),
        joined_now=live["joined_now"],  # type: ignore[arg-type]
        peak=live["peak"],  # type: ignore[arg-type]
        capacity=live["capacity"],  # type: ignore[arg-type]
        regions=[
            RegionRow(r, registered.get(r, 0), attended.get(r, 0), watching.get(r, 0))
            for r in regions
        ],
        edges=live["viewers_by_edge"],  # type: ignore[arg-type]
        series=live["series"],  # type: ignore[arg-type]
    )


def summary_of(webinar: Webinar) -> AttendanceSummary | None:
    return AttendanceSummary.objects.filter(webinar=webinar).first()


def report_rows(summary: AttendanceSummary) -> list[RegionRow]:
    return [
        RegionRow(
            region=row["region"],
            registered=row["registered"],
            attended=row["attended"],
            average_minutes=round(row["watched_s"] / 60 / row["attended"], 1)
            if row["attended"]
            else 0.0,
        )
        for row in summary.by_region
    ]
