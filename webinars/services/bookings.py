"""The booking lifecycle: hold (with its fleet reservation and the unpaid-hold limit),
awaiting funds, confirm, live, complete, expire, cancel, flag. Each service is atomic,
locks before it checks, writes one audit row per state change and raises `BookingError`
(or `CapacityError`) for a broken rule."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from webinars import audit, cancellation, capacity_checks, fleet, signals
from webinars.errors import BookingError
from webinars.models import (
    FleetReservation,
    Organisation,
    Package,
    User,
    Webinar,
)
from webinars.rules import build_request

S = Webinar.Status


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
    any slot of any region it needs is full, or when a registered capacity check refuses
    (`TeamUnavailableError`: no Event Services team free then); nothing is written then.
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
        fleet.reserve(need)
        # After the fleet, in the same transaction: the Event Services team (and any other
        # registered check) is placed with the slots or the whole hold rolls back. The
        # audit row comes last because it records what the checks placed.
        taken = capacity_checks.take(webinar)
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
            }
            | taken,
        )
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


def _release(webinar: Webinar, now: datetime) -> dict[str, Any]:
    """Give back the fleet slots and what the capacity checks took; returns the latter
    for the state change's audit row."""
    fleet.release(_need_of(webinar))
    webinar.reservations.update(released_at=now)
    return capacity_checks.give_back(webinar)


@transaction.atomic
def confirm_booking(
    webinar: Webinar, *, actor: User | None, data: dict[str, Any] | None = None
) -> Webinar:
    """Confirm a paid booking. A held or awaiting-funds booking already holds its capacity;
    an expired one is re-reserved if the capacity (fleet and team) is still free, else
    CapacityError and
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
        data = (data or {}) | capacity_checks.take(webinar)
    _transition(
        webinar, S.CONFIRMED, allowed=(S.HELD, S.AWAITING_FUNDS, S.EXPIRED), action="confirmed"
    )
    webinar.hold_expires_at = None
    webinar.funds_deadline = None
    webinar.save(update_fields=["status", "hold_expires_at", "funds_deadline", "updated_at"])
    data = (data or {}) | capacity_checks.confirm(webinar)
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
    given_back = _release(webinar, now)
    webinar.save(update_fields=["status", "updated_at"])
    audit.record("webinar.expired", webinar, actor=actor, data={"reason": reason} | given_back)
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
    given_back = _release(webinar, timezone.now())
    webinar.hold_expires_at = None
    webinar.save(update_fields=["status", "hold_expires_at", "updated_at"])
    audit.record("webinar.cancelled", webinar, actor=actor, data={"reason": reason} | given_back)
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
