from datetime import timedelta

import pytest
from django.db.models import Max, Sum
from django.utils import timezone

from tests.conftest import hold, local_start
from webinars import services, signals
from webinars.errors import BookingError, CapacityError
from webinars.models import AuditEntry, FleetSlot, Package, Region, Webinar


def _used(region_code: str) -> int:
    return FleetSlot.objects.filter(region__code=region_code).aggregate(m=Max("used"))["m"] or 0


def test_hold_snapshots_price_and_occupies_its_nodes_for_its_window(organiser, package_10k):
    webinar = hold(organiser, package_10k, duration_minutes=90)
    assert webinar.status == "held"
    assert webinar.price_minor == 900_000 and webinar.currency == "USD"
    assert webinar.total_nodes == 13
    assert webinar.hold_expires_at == pytest.approx(
        timezone.now() + timedelta(minutes=30), abs=timedelta(seconds=30)
    )
    # 60 min warm-up + 90 min + 30 min drain = 3 h = 12 slots, 13 nodes each.
    slots = FleetSlot.objects.filter(region__code="us-east")
    assert slots.count() == 12
    assert set(slots.values_list("used", flat=True)) == {13}
    assert webinar.occupied_from == webinar.start_at - timedelta(minutes=60)
    entry = AuditEntry.objects.get(webinar=webinar)
    assert entry.action == "webinar.held" and entry.actor == organiser


def test_price_change_never_alters_an_existing_booking(organiser, package_10k):
    webinar = hold(organiser, package_10k)
    Package.objects.filter(pk=package_10k.pk).update(price_minor=1_000_000)
    webinar.refresh_from_db()
    assert webinar.price_minor == 900_000


def test_full_region_gives_no_longer_available_and_changes_nothing(organiser, package_10k):
    Region.objects.filter(code="us-east").update(fleet_size=20)
    hold(organiser, package_10k)  # 13 of 20
    before = list(FleetSlot.objects.values_list("id", "used"))
    with pytest.raises(CapacityError) as exc_info:
        hold(organiser, package_10k, title="Second")
    assert "no longer available" in exc_info.value.message
    assert "us-east" in exc_info.value.message
    assert exc_info.value.http_status == 409
    assert list(FleetSlot.objects.values_list("id", "used")) == before
    assert Webinar.objects.count() == 1


def test_non_overlapping_times_share_the_fleet(organiser, package_10k):
    Region.objects.filter(code="us-east").update(fleet_size=20)
    hold(organiser, package_10k, start_local=local_start(hour=8))
    hold(organiser, package_10k, start_local=local_start(hour=16))
    assert _used("us-east") == 13


def test_confirm_keeps_capacity_and_announces_after_commit(
    organiser, package_10k, django_capture_on_commit_callbacks
):
    received = []
    signals.booking_confirmed.connect(
        lambda **kw: received.append(kw), weak=False, dispatch_uid="test-confirm"
    )
    try:
        webinar = hold(organiser, package_10k)
        with django_capture_on_commit_callbacks(execute=True):
            services.confirm_booking(webinar, actor=None, data={"payment": "pi_1"})
    finally:
        signals.booking_confirmed.disconnect(dispatch_uid="test-confirm")
    webinar.refresh_from_db()
    assert webinar.status == "confirmed" and webinar.hold_expires_at is None
    assert received == [
        {
            "signal": signals.booking_confirmed,
            "sender": "webinars",
            "webinar_id": webinar.pk,
            "status": "confirmed",
            "reason": "",
        }
    ]
    assert _used("us-east") == 13
    # Confirming twice (a duplicated payment event) is a no-op.
    services.confirm_booking(webinar, actor=None)
    assert AuditEntry.objects.filter(webinar=webinar, action="webinar.confirmed").count() == 1


def test_expiry_releases_capacity_once(organiser, package_10k):
    webinar = hold(organiser, package_10k)
    services.expire_hold(webinar)
    services.expire_hold(webinar)
    webinar.refresh_from_db()
    assert webinar.status == "expired"
    assert _used("us-east") == 0
    assert webinar.reservations.filter(released_at__isnull=False).count() == 1


def test_sweeper_expires_only_holds_past_their_time(organiser, package_10k):
    due = hold(organiser, package_10k, title="Due")
    fresh = hold(organiser, package_10k, title="Fresh")
    Webinar.objects.filter(pk=due.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    assert services.expire_due_holds() == [due.code]
    due.refresh_from_db()
    fresh.refresh_from_db()
    assert (due.status, fresh.status) == ("expired", "held")
    assert _used("us-east") == 13


def test_missed_funds_deadline_releases_an_awaiting_funds_booking(organiser, package_10k):
    webinar = hold(organiser, package_10k)
    services.mark_awaiting_funds(
        webinar, actor=None, funds_deadline=timezone.now() - timedelta(minutes=1)
    )
    assert services.expire_due_holds() == [webinar.code]
    webinar.refresh_from_db()
    assert webinar.status == "expired"
    assert AuditEntry.objects.filter(
        webinar=webinar, action="webinar.expired", data__reason="funds deadline passed"
    ).exists()


def test_late_payment_re_reserves_if_capacity_is_still_free(organiser, package_10k):
    webinar = hold(organiser, package_10k)
    services.expire_hold(webinar)
    services.confirm_booking(webinar, actor=None)
    webinar.refresh_from_db()
    assert webinar.status == "confirmed"
    assert _used("us-east") == 13


def test_late_payment_never_confirms_when_capacity_is_gone(organiser, package_10k):
    Region.objects.filter(code="us-east").update(fleet_size=20)
    late = hold(organiser, package_10k)
    services.expire_hold(late)
    hold(organiser, package_10k, title="Took the slot")
    with pytest.raises(CapacityError):
        services.confirm_booking(late, actor=None)
    late.refresh_from_db()
    assert late.status == "expired"
    assert _used("us-east") == 13


def test_cancel_releases_and_lifecycle_is_monotonic(organiser, staff, package_10k):
    webinar = hold(organiser, package_10k)
    services.confirm_booking(webinar, actor=None)
    services.cancel_booking(webinar, actor=organiser, reason="event moved")
    assert _used("us-east") == 0
    with pytest.raises(BookingError) as exc_info:
        services.start_webinar(webinar, actor=staff)
    assert exc_info.value.code == "invalid_transition"
    assert "cancelled booking cannot be started" in exc_info.value.message


def test_full_lifecycle_writes_one_audit_row_per_change(organiser, staff, package_10k):
    webinar = hold(organiser, package_10k)
    services.confirm_booking(webinar, actor=None)
    services.start_webinar(webinar, actor=staff)
    services.complete_webinar(webinar, actor=staff)
    actions = list(
        AuditEntry.objects.filter(webinar=webinar).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["webinar.held", "webinar.confirmed", "webinar.live", "webinar.completed"]


def test_fleet_cannot_shrink_below_committed_nodes(organiser, staff, package_10k, us_east):
    hold(organiser, package_10k)
    with pytest.raises(BookingError, match="already has 13 nodes"):
        services.set_fleet_size(us_east, fleet_size=12, actor=staff)
    services.set_fleet_size(us_east, fleet_size=13, actor=staff)
    assert set(FleetSlot.objects.values_list("capacity", flat=True)) == {13}
    assert FleetSlot.objects.aggregate(s=Sum("used"))["s"] == 13 * 12
    assert AuditEntry.objects.filter(action="region.fleet_resized").count() == 1


def test_an_expired_booking_inside_its_lead_time_is_never_revived(organiser, package_10k):
    webinar = hold(organiser, package_10k)
    services.expire_hold(webinar)
    # Time passes: the start is now only one day away (the 10k package needs two).
    Webinar.objects.filter(pk=webinar.pk).update(start_at=timezone.now() + timedelta(days=1))
    with pytest.raises(BookingError) as exc_info:
        services.confirm_booking(webinar, actor=None)
    assert exc_info.value.code == "too_late"
    webinar.refresh_from_db()
    assert webinar.status == "expired"
    assert _used("us-east") == 0
