"""Booking rules shared by quotes and holds: turn what an organiser asked for into a
validated `BookingRequest`, or raise a `BookingError` that says exactly what is wrong."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.utils import timezone

from webinars import fleet
from webinars.errors import BookingError
from webinars.formatting import format_in_zone, percent_text
from webinars.models import Package, Region
from webinars.sizing import BASIS_POINTS, ClusterPlan, SizingParams, size_cluster

# Audience presets: region code -> share in basis points (10,000 = 100 %).
AUDIENCE_PRESETS: dict[str, tuple[str, dict[str, int]]] = {
    "north-america": ("North America", {"us-east": 6000, "us-west": 4000}),
    "south-america": ("South America", {"sa-east": 10000}),
    "americas": ("Americas", {"us-east": 4000, "us-west": 3000, "sa-east": 3000}),
    "europe": ("Europe", {"eu-west": 5000, "eu-central": 5000}),
    "asia-pacific": (
        "Asia-Pacific",
        {"ap-south": 3400, "ap-southeast": 3300, "ap-northeast": 3300},
    ),
    "global": (
        "Global",
        {
            code: 1250
            for code in (
                "us-east",
                "us-west",
                "sa-east",
                "eu-west",
                "eu-central",
                "ap-south",
                "ap-southeast",
                "ap-northeast",
            )
        },
    ),
}
CUSTOM_PRESET = "custom"

# Time-zone offsets stay within a day, so wall-clock times inside these bounds convert to
# UTC (and back) without leaving datetime's range of years 1 to 9999.
_EARLIEST_REPRESENTABLE = datetime.min + timedelta(days=2)
_LATEST_REPRESENTABLE = datetime.max - timedelta(days=2)


@dataclass(frozen=True)
class BookingRequest:
    package: Package
    start_at: datetime  # aware, UTC
    duration_minutes: int
    timezone: str
    preset: str
    split: dict[str, int]  # region code -> basis points
    regions: dict[str, Region]

    @property
    def end_at(self) -> datetime:
        return self.start_at + timedelta(minutes=self.duration_minutes)

    def plan(self) -> ClusterPlan:
        return size_cluster(self.package.capacity, self.split, sizing_params())

    def slot_need(self, plan: ClusterPlan | None = None) -> fleet.SlotNeed:
        return slot_need_for(
            self.package, self.start_at, self.duration_minutes, plan or self.plan(), self.regions
        )


def sizing_params() -> SizingParams:
    return SizingParams(
        viewers_per_edge=settings.SIZING_VIEWERS_PER_EDGE,
        surge=settings.SIZING_SURGE,
        spare_ratio=settings.SIZING_SPARE_RATIO,
        relays_per_region=settings.SIZING_RELAYS_PER_REGION,
        origins=settings.SIZING_ORIGINS,
    )


def slot_need_for(
    package: Package,
    start_at: datetime,
    duration_minutes: int,
    plan: ClusterPlan,
    regions: dict[str, Region],
) -> fleet.SlotNeed:
    slot_from, slot_until = fleet.occupancy_window(
        start_at, duration_minutes, package.warmup_minutes
    )
    return fleet.SlotNeed(
        nodes_by_region={regions[code].id: n for code, n in plan.nodes_by_region().items()},
        slot_from=slot_from,
        slot_until=slot_until,
    )


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def resolve_timezone(name: str) -> ZoneInfo:
    """The IANA zones the booking form offers, on every entry point (ZoneInfo alone would
    also open `posix/...`, `right/...` and other files of the zone database)."""
    if name not in _known_zones():
        raise BookingError("unknown_timezone", tz=name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BookingError("unknown_timezone", tz=name) from exc


def parse_split(raw: dict[str, object]) -> dict[str, int]:
    """Percentages (up to two decimals, as entered) -> basis points; zero shares dropped."""
    split: dict[str, int] = {}
    for code, value in raw.items():
        try:
            bp = Decimal(str(value or 0)) * 100
        except InvalidOperation as exc:
            raise BookingError("split_share") from exc
        if bp < 0 or bp != bp.to_integral_value():
            raise BookingError("split_share")
        if bp > 0:
            split[code] = int(bp)
    return split


def resolve_audience(preset: str, custom_split: dict[str, int] | None) -> dict[str, int]:
    if preset == CUSTOM_PRESET:
        split = dict(custom_split or {})
    elif preset in AUDIENCE_PRESETS:
        split = dict(AUDIENCE_PRESETS[preset][1])
    else:
        raise BookingError("unknown_preset", preset=preset)
    if not split:
        raise BookingError("split_empty")
    if any(bp <= 0 for bp in split.values()):
        raise BookingError("split_share")
    total = sum(split.values())
    if total != BASIS_POINTS:
        raise BookingError("split_sum", total=percent_text(total))
    return split


def local_to_utc(start: datetime, timezone_name: str) -> datetime:
    """The one conversion from the start an organiser gave to the aware UTC instant stored.
    Form, live quote, API and services all reach it through `build_request`.

    - A naive `start` is wall-clock time in `timezone_name`. A time skipped when the clocks
      go forward does not exist there: BookingError "nonexistent_time". A time repeated
      when they go back is read as its first occurrence (still on summer time, `fold=0`),
      the earlier of the two instants, so a booking never starts later than the organiser
      could have meant.
    - An aware `start` (the API accepts an explicit offset) is the instant it names; the
      zone then only says how to show it.
    - A start so close to year 1 or 9999 that a time-zone offset would leave the calendar
      is refused as in the past or beyond the horizon, before any arithmetic is done on it.
    """
    zone = resolve_timezone(timezone_name)
    wall = start.replace(tzinfo=None)
    if wall < _EARLIEST_REPRESENTABLE:
        raise BookingError("start_in_past")
    if wall > _LATEST_REPRESENTABLE:
        raise BookingError("beyond_horizon", days=settings.BOOKING_HORIZON_DAYS)
    if start.tzinfo is not None:
        return start.astimezone(UTC)
    instant = start.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != start:
        raise BookingError(
            "nonexistent_time", local=start.strftime("%Y-%m-%d %H:%M"), tz=timezone_name
        )
    return instant


def booking_kwargs_from(data: Mapping[str, Any]) -> dict[str, Any]:
    """A validated booking input, named as the form and the API name its fields (`start`,
    `timezone`, `audience`, plus the parsed `custom_split`), as the keyword arguments of
    `build_request` and `services.book_webinar`."""
    return {
        "package": data["package"],
        "start_local": data["start"],
        "timezone_name": data["timezone"],
        "duration_minutes": data["duration_minutes"],
        "preset": data["audience"],
        "custom_split": data.get("custom_split"),
    }


def build_request(
    *,
    package: Package,
    start_local: datetime,
    timezone_name: str,
    duration_minutes: int,
    preset: str,
    custom_split: dict[str, int] | None = None,
    now: datetime | None = None,
) -> BookingRequest:
    """Validate one booking request; the order of checks is the order a user fixes them.

    `start_local` is read by `local_to_utc`: naive means wall-clock time in `timezone_name`.
    """
    now = now or timezone.now()
    if not package.is_active:
        raise BookingError("package_inactive", package=package.name)
    zone = resolve_timezone(timezone_name)
    start_at = local_to_utc(start_local, timezone_name)
    if not package.min_duration_minutes <= duration_minutes <= package.max_duration_minutes:
        raise BookingError(
            "duration_range", min=package.min_duration_minutes, max=package.max_duration_minutes
        )
    if start_at <= now:
        raise BookingError("start_in_past")
    earliest = now + timedelta(days=package.lead_time_days)
    if start_at < earliest:
        raise BookingError(
            "lead_time",
            package=package.name,
            days=package.lead_time_days,
            earliest=format_in_zone(earliest, zone.key),
        )
    if start_at > now + timedelta(days=settings.BOOKING_HORIZON_DAYS):
        raise BookingError("beyond_horizon", days=settings.BOOKING_HORIZON_DAYS)
    split = resolve_audience(preset, custom_split)
    regions = {r.code: r for r in Region.objects.filter(code__in=split, is_active=True)}
    for code in split:
        if code not in regions:
            raise BookingError("unknown_region", region=code)
    return BookingRequest(
        package=package,
        start_at=start_at,
        duration_minutes=duration_minutes,
        timezone=timezone_name,
        preset=preset,
        split=split,
        regions=regions,
    )
