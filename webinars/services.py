"""Every write of the booking core. Each service is atomic, locks before it checks, writes
one audit row per state change and raises `BookingError` for a broken rule."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from webinars import audit, cancellation, fleet, signals
from webinars.countries import normalise_country, normalise_vat_id
from webinars.errors import BookingError
from webinars.models import (
    FleetReservation,
    FleetSlot,
    Membership,
    Organisation,
    Package,
    Region,
    User,
    Webinar,
)
from webinars.rules import build_request

S = Webinar.Status

ORGANISATION_FIELDS = Organisation.BILLING_FIELDS


def register_organiser(*, email: str, password: str) -> User:
    """Create an organiser account (no organisation yet)."""
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password)
        audit.record("user.registered", user, actor=user, data={"email": user.email})
    return user


def _billing_details(
    fields: dict[str, Any], *, current: Organisation | None = None
) -> dict[str, Any]:
    """`fields` over `current`'s billing details, as stored: the country as its code
    (aliases resolved) and the VAT id normalised for that country (`webinars.countries`).
    Callers keep only the keys they were given, so a new country never rewrites an id."""
    details = {k: fields.get(k, getattr(current, k, "")) for k in ORGANISATION_FIELDS}
    details["country"] = normalise_country(details["country"])
    details["vat_id"] = normalise_vat_id(details["vat_id"], details["country"])
    return details


@transaction.atomic
def create_organisation(user: User, *, actor: User, **fields: Any) -> Organisation:
    """Create the organisation `user` books for, with `user` as its owner."""
    if Membership.objects.filter(user=user).exists():
        raise BookingError(
            "invalid_transition", status="member", action="given a second organisation"
        )
    organisation = Organisation(**_billing_details(fields))
    organisation.full_clean()
    organisation.save()
    Membership.objects.create(user=user, organisation=organisation, role=Membership.Role.OWNER)
    audit.record("organisation.created", organisation, actor=actor, data=fields)
    return organisation


@transaction.atomic
def update_organisation(organisation: Organisation, *, actor: User, **fields: Any) -> Organisation:
    """Change billing details. Issued invoices keep the details they were issued with."""
    given = _billing_details(fields, current=organisation)
    changed = {k: v for k, v in given.items() if k in fields and getattr(organisation, k) != v}
    for key, value in changed.items():
        setattr(organisation, key, value)
    organisation.full_clean()
    organisation.save(update_fields=list(changed) or None)
    audit.record("organisation.updated", organisation, actor=actor, data=changed)
    return organisation


def book_webinar(
    organisation: Organisation,
    *,
    actor: User | None,
    title: str,
    package: Package,
    start_local: datetime,
    timezone_name: str,
    duration_minutes: int,
    preset: str,
    custom_split: dict[str, int] | None = None,
) -> Webinar:
    """Place a hold: the webinar occupies its relay nodes for HOLD_MINUTES until paid.

    Raises BookingError for invalid input and CapacityError ("no longer available") when
    any slot of any region it needs is full; in both cases nothing is written.
    """
    request = build_request(
        package=package,
        start_local=start_local,
        timezone_name=timezone_name,
        duration_minutes=duration_minutes,
        preset=preset,
        custom_split=custom_split,
    )
    plan = request.plan()
    need = request.slot_need(plan)
    now = timezone.now()
    with transaction.atomic():
        _check_hold_limit(organisation, now=now)
        # Everything that does not need the ledger goes first, so the slot locks are held
        # only for the check, the update and the commit.
        webinar = Webinar.objects.create(
            organisation=organisation,
            created_by=actor,
            title=title.strip(),
            package=package,
            capacity=package.capacity,
            price_minor=package.price_minor,
            currency=package.currency,
            start_at=request.start_at,
            duration_minutes=duration_minutes,
            time_zone=timezone_name,
            audience_preset=preset,
            audience_split=request.split,
            cluster_plan=plan.as_dict(),
            cancellation_policy=cancellation.current_policy(),
            occupied_from=need.slot_from,
            occupied_until=need.slot_until,
            status=S.HELD,
            hold_expires_at=now + timedelta(minutes=settings.HOLD_MINUTES),
        )
        FleetReservation.objects.bulk_create(
            FleetReservation(
                webinar=webinar,
                region_id=region_id,
                nodes=nodes,
                slot_from=need.slot_from,
                slot_until=need.slot_until,
            )
            for region_id, nodes in need.nodes_by_region.items()
        )
        audit.record(
            "webinar.held",
            webinar,
            actor=actor,
            data={
                "package": package.code,
                "price_minor": package.price_minor,
                "start_at": request.start_at.isoformat(),
                "nodes": plan.total_nodes,
                "hold_expires_at": webinar.hold_expires_at.isoformat(),
            },
        )
        fleet.reserve(need)
    return webinar


def _check_hold_limit(organisation: Organisation, *, now: datetime) -> None:
    """An abuse limit (holds are free), counted under the organisation's row lock in the
    hold's own transaction: simultaneous holds by one organisation queue here, so the
    limit holds exactly. Lock order: organisation, then webinar, regions and slots, as
    everywhere; nothing locks an organisation after any of those."""
    limit = settings.MAX_UNPAID_HOLDS
    if not limit:
        return
    Organisation.objects.select_for_update(no_key=True).only("pk").get(pk=organisation.pk)
    unpaid = Webinar.objects.filter(
        organisation_id=organisation.pk, status=S.HELD, hold_expires_at__gt=now
    )
    if unpaid.count() >= limit:
        raise BookingError("too_many_holds", count=limit)


def _need_of(webinar: Webinar) -> fleet.SlotNeed:
    reservations = list(webinar.reservations.all())
    return fleet.SlotNeed(
        nodes_by_region={r.region_id: r.nodes for r in reservations},
        slot_from=webinar.occupied_from,
        slot_until=webinar.occupied_until,
    )


def _locked(webinar: Webinar) -> Webinar:
    # The webinar row is always locked before any slot row: one lock order everywhere.
    return Webinar.objects.select_for_update(no_key=True).get(pk=webinar.pk)


def _transition(webinar: Webinar, to: str, *, allowed: tuple[str, ...], action: str) -> None:
    if webinar.status not in allowed:
        raise BookingError(
            "invalid_transition", status=webinar.get_status_display().lower(), action=action
        )
    webinar.status = to


def _release(webinar: Webinar, now: datetime) -> None:
    fleet.release(_need_of(webinar))
    webinar.reservations.update(released_at=now)


@transaction.atomic
def confirm_booking(
    webinar: Webinar, *, actor: User | None, data: dict[str, Any] | None = None
) -> Webinar:
    """Confirm a paid booking. A held or awaiting-funds booking already holds its capacity;
    an expired one is re-reserved if the capacity is still free, else CapacityError and
    nothing changes (billing then refunds). An expired booking whose start is already inside
    the package's lead time is never revived (BookingError "too_late"): staff and fleet need
    that notice. Confirming twice is a no-op."""
    webinar = _locked(webinar)
    if webinar.status == S.CONFIRMED:
        return webinar
    if webinar.status == S.EXPIRED:
        lead_time = timedelta(days=webinar.package.lead_time_days)
        if timezone.now() > webinar.start_at - lead_time:
            raise BookingError("too_late", days=webinar.package.lead_time_days)
        fleet.reserve(_need_of(webinar))
        webinar.reservations.update(released_at=None)
    _transition(
        webinar, S.CONFIRMED, allowed=(S.HELD, S.AWAITING_FUNDS, S.EXPIRED), action="confirmed"
    )
    webinar.hold_expires_at = None
    webinar.funds_deadline = None
    webinar.save(update_fields=["status", "hold_expires_at", "funds_deadline", "updated_at"])
    audit.record("webinar.confirmed", webinar, actor=actor, data=data)
    signals.announce(signals.booking_confirmed, webinar.pk, webinar.status)
    return webinar


@transaction.atomic
def mark_awaiting_funds(
    webinar: Webinar, *, actor: User | None, funds_deadline: datetime
) -> Webinar:
    """A bank transfer was chosen: keep the capacity held until `funds_deadline`."""
    webinar = _locked(webinar)
    if webinar.status == S.AWAITING_FUNDS:
        return webinar
    _transition(webinar, S.AWAITING_FUNDS, allowed=(S.HELD,), action="moved to awaiting funds")
    webinar.hold_expires_at = None
    webinar.funds_deadline = funds_deadline
    webinar.save(update_fields=["status", "hold_expires_at", "funds_deadline", "updated_at"])
    audit.record(
        "webinar.awaiting_funds",
        webinar,
        actor=actor,
        data={"funds_deadline": funds_deadline.isoformat()},
    )
    return webinar


@transaction.atomic
def expire_hold(
    webinar: Webinar, *, actor: User | None = None, reason: str = "hold expired"
) -> Webinar:
    """Release an unpaid hold (checkout abandoned, expired, or bank transfer failed)."""
    webinar = _locked(webinar)
    if webinar.status == S.EXPIRED:
        return webinar
    _transition(webinar, S.EXPIRED, allowed=Webinar.UNPAID_STATUSES, action="expired")
    now = timezone.now()
    _release(webinar, now)
    webinar.save(update_fields=["status", "updated_at"])
    audit.record("webinar.expired", webinar, actor=actor, data={"reason": reason})
    signals.announce(signals.booking_expired, webinar.pk, webinar.status, reason)
    return webinar


@transaction.atomic
def cancel_booking(webinar: Webinar, *, actor: User | None, reason: str = "") -> Webinar:
    """Cancel a held or booked webinar and give its capacity back. Paid bookings are
    cancelled through `billing.services.cancellation.cancel_webinar`, which refunds and
    calls this."""
    webinar = _locked(webinar)
    if webinar.status == S.CANCELLED:
        return webinar
    _transition(webinar, S.CANCELLED, allowed=Webinar.CANCELLABLE_STATUSES, action="cancelled")
    _release(webinar, timezone.now())
    webinar.hold_expires_at = None
    webinar.save(update_fields=["status", "hold_expires_at", "updated_at"])
    audit.record("webinar.cancelled", webinar, actor=actor, data={"reason": reason})
    signals.announce(signals.booking_cancelled, webinar.pk, webinar.status)
    return webinar


@transaction.atomic
def start_webinar(webinar: Webinar, *, actor: User | None) -> Webinar:
    """The event went live."""
    webinar = _locked(webinar)
    _transition(webinar, S.LIVE, allowed=(S.CONFIRMED,), action="started")
    webinar.save(update_fields=["status", "updated_at"])
    audit.record("webinar.live", webinar, actor=actor)
    return webinar


@transaction.atomic
def complete_webinar(webinar: Webinar, *, actor: User | None) -> Webinar:
    """The event is over; its drain slots stay reserved until they pass."""
    webinar = _locked(webinar)
    _transition(webinar, S.COMPLETED, allowed=(S.LIVE, S.CONFIRMED), action="completed")
    webinar.save(update_fields=["status", "updated_at"])
    audit.record("webinar.completed", webinar, actor=actor)
    signals.announce(signals.booking_completed, webinar.pk, webinar.status)
    return webinar


@transaction.atomic
def flag_webinar(webinar: Webinar, *, actor: User | None, reason: str) -> Webinar:
    """Ask Event Services / finance to look at this booking (late payment, dispute...)."""
    webinar = _locked(webinar)
    webinar.needs_attention = True
    webinar.attention_reason = reason[:200]
    webinar.save(update_fields=["needs_attention", "attention_reason", "updated_at"])
    audit.record("webinar.flagged", webinar, actor=actor, data={"reason": reason})
    return webinar


def _is_due(webinar: Webinar, now: datetime) -> bool:
    if webinar.status == S.HELD:
        return webinar.hold_expires_at is not None and webinar.hold_expires_at <= now
    if webinar.status == S.AWAITING_FUNDS:
        return webinar.funds_deadline is not None and webinar.funds_deadline <= now
    return False


def expire_due_holds(*, now: datetime | None = None, limit: int = 500) -> list[str]:
    """Expire every hold (and missed funds deadline) that has run out; returns codes.

    Each booking is expired in its own transaction, so one failure does not block the rest,
    and a concurrent payment that locked the row first wins (skip_locked)."""
    now = now or timezone.now()
    due = list(
        Webinar.objects.filter(
            Q(status=S.HELD, hold_expires_at__lte=now)
            | Q(status=S.AWAITING_FUNDS, funds_deadline__lte=now)
        ).values_list("pk", flat=True)[:limit]
    )
    expired: list[str] = []
    for pk in due:
        with transaction.atomic():
            webinar = (
                Webinar.objects.select_for_update(skip_locked=True, no_key=True)
                .filter(pk=pk)
                .first()
            )
            if webinar is None or not _is_due(webinar, now):
                continue
            reason = "hold expired" if webinar.status == S.HELD else "funds deadline passed"
            expire_hold(webinar, actor=None, reason=reason)
            expired.append(webinar.code)
    return expired


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


@transaction.atomic
def add_member(
    organisation: Organisation, *, user: User, role: str, actor: User | None
) -> Membership:
    """Let `user` act for `organisation`. A user belongs to at most one organisation."""
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if Membership.objects.filter(user=user).exists():
        raise BookingError("already_member", email=user.email)
    membership = Membership(user=user, organisation=organisation, role=role)
    membership.full_clean(validate_unique=False)
    membership.save()
    audit.record(
        "organisation.member_added",
        organisation,
        actor=actor,
        data={"user": user.email, "role": role},
    )
    return membership


@transaction.atomic
def set_member_role(membership: Membership, *, role: str, actor: User | None) -> Membership:
    membership = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    if membership.role == role:
        return membership
    old, membership.role = membership.role, role
    membership.full_clean(validate_unique=False)
    membership.save(update_fields=["role"])
    audit.record(
        "organisation.member_role_changed",
        membership.organisation,
        actor=actor,
        data={"user": membership.user.email, "from": old, "to": role},
    )
    return membership


@transaction.atomic
def remove_member(membership: Membership, *, actor: User | None) -> None:
    """The user no longer acts for the organisation; its bookings stay the organisation's."""
    membership = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    organisation = membership.organisation
    email = membership.user.email
    membership.delete()
    audit.record("organisation.member_removed", organisation, actor=actor, data={"user": email})


@transaction.atomic
def clear_flag(webinar: Webinar, *, actor: User | None, note: str = "") -> Webinar:
    """Event Services or finance dealt with what `flag_webinar` asked them to look at."""
    webinar = _locked(webinar)
    if not webinar.needs_attention:
        return webinar
    reason = webinar.attention_reason
    webinar.needs_attention = False
    webinar.attention_reason = ""
    webinar.save(update_fields=["needs_attention", "attention_reason", "updated_at"])
    audit.record(
        "webinar.flag_cleared", webinar, actor=actor, data={"reason": reason, "note": note}
    )
    return webinar
