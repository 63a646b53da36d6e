"""The catalogue staff edit: packages (price, limits, on sale or not) and regions (fleet
size, under lock against the slots already committed). Every edit is audited."""

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from webinars import audit, fleet
from webinars.errors import BookingError
from webinars.models import (
    FleetSlot,
    Package,
    Region,
    User,
)


def check_fleet_size(
    region: Region, *, fleet_size: int, slots: list[FleetSlot] | None = None
) -> None:
    """The rule of resizing: a region's fleet never shrinks below the nodes already
    committed in any slot from the current one on. Raises BookingError. Without `slots` it
    reads them unlocked (a form's early answer); the services pass the locked rows."""
    if slots is None:
        slots = list(_future_slots(region))
    for slot in slots:
        if slot.used > fleet_size:
            raise BookingError(
                "fleet_below_usage",
                region=region.code,
                used=slot.used,
                slot=slot.slot_start.strftime("%Y-%m-%d %H:%M UTC"),
            )


def _future_slots(region: Region) -> QuerySet[FleetSlot]:
    current_slot = fleet.floor_slot(timezone.now())
    return FleetSlot.objects.filter(region=region, slot_start__gte=current_slot).order_by(
        "slot_start"
    )


def _resize_fleet(region: Region, fleet_size: int) -> None:
    """Under the region's lock: lock its future slots, check, and give them the new size."""
    slots = list(_future_slots(region).select_for_update(no_key=True))
    check_fleet_size(region, fleet_size=fleet_size, slots=slots)
    FleetSlot.objects.filter(pk__in=[s.pk for s in slots]).update(capacity=fleet_size)
    region.fleet_size = fleet_size


@transaction.atomic
def set_fleet_size(region: Region, *, fleet_size: int, actor: User | None) -> Region:
    """Resize a region's fleet for every slot from now on; refuses to shrink below nodes
    already committed."""
    region = Region.objects.select_for_update(no_key=True).get(pk=region.pk)
    old = region.fleet_size
    _resize_fleet(region, fleet_size)
    region.save(update_fields=["fleet_size"])
    audit.record("region.fleet_resized", region, actor=actor, data={"from": old, "to": fleet_size})
    return region


# What staff may edit on catalogue rows. Codes are not among them: bookings, audience splits
# and the API refer to packages and regions by code.
PACKAGE_FIELDS = (
    "name",
    "capacity",
    "price_minor",
    "currency",
    "lead_time_days",
    "min_duration_minutes",
    "max_duration_minutes",
    "staff_roles",
    "is_active",
)


REGION_FIELDS = ("name", "latitude", "longitude", "fleet_size", "sort_order", "is_active")


def _apply(obj: Any, fields: dict[str, Any], editable: tuple[str, ...]) -> dict[str, Any]:
    """Set the editable fields that differ; returns {field: {"from", "to"}} for the audit
    row (JSON-safe: decimals as strings)."""
    unknown = set(fields) - set(editable)
    if unknown:
        raise TypeError(f"not editable here: {', '.join(sorted(unknown))}")
    changes: dict[str, Any] = {}
    for key, value in fields.items():
        old = getattr(obj, key)
        if old != value:
            changes[key] = {"from": _json_safe(old), "to": _json_safe(value)}
            setattr(obj, key, value)
    return changes


def _json_safe(value: Any) -> Any:
    return (
        value if isinstance(value, (str, int, float, bool, dict, list, type(None))) else str(value)
    )


@transaction.atomic
def update_package(package: Package, *, actor: User | None, **fields: Any) -> Package:
    """Edit a catalogue row (price, limits, on sale or not). Bookings snapshot what they
    need, so this never alters an existing booking. Nothing changed, nothing audited."""
    package = Package.objects.select_for_update().get(pk=package.pk)
    changes = _apply(package, fields, PACKAGE_FIELDS)
    if changes:
        package.full_clean()
        package.save(update_fields=list(changes))
        audit.record("package.updated", package, actor=actor, data=changes)
    return package


def set_package_active(package: Package, *, is_active: bool, actor: User | None) -> Package:
    """Put a package on sale or take it off (the catalogue list's check box)."""
    return update_package(package, actor=actor, is_active=is_active)


@transaction.atomic
def update_region(region: Region, *, actor: User | None, **fields: Any) -> Region:
    """Edit a region. A new fleet size reaches its future slot rows under lock and never
    goes below the nodes committed (BookingError, nothing written)."""
    region = Region.objects.select_for_update(no_key=True).get(pk=region.pk)
    new_size = fields.get("fleet_size", region.fleet_size)
    changes = _apply(region, fields, REGION_FIELDS)
    if not changes:
        return region
    if "fleet_size" in changes:
        _resize_fleet(region, new_size)
    region.full_clean()
    region.save(update_fields=list(changes))
    audit.record("region.updated", region, actor=actor, data=changes)
    return region
