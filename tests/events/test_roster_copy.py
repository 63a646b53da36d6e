"""The roster copy each process keeps (events.selectors.roster): a change to the roster,
by any path, is seen by the very next read, and a change that was rolled back never is."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from events.models import RosterGeneration, StaffMember, WeeklyShift
from events.selectors.staffing import event_window, load_candidates
from tests.events.staffing_helpers import add_leave, add_member

pytestmark = [pytest.mark.django_db, pytest.mark.own_roster]


def _noon(days: int = 10) -> datetime:
    day = (timezone.now() + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def _free(noon: datetime) -> dict[str, bool]:
    window = event_window(noon, 60)
    span = (window.start, window.blocked_end)
    return {c.name: c.free_for(window) for c in load_candidates(["producer"], span)}


def _generation() -> int:
    return RosterGeneration.objects.get(pk=1).value


def test_every_kind_of_roster_write_is_seen_by_the_next_read() -> None:
    noon = _noon()
    member = add_member("Copy Reader", ["producer"])
    assert _free(noon) == {"Copy Reader": True}

    leave = add_leave(member, noon - timedelta(hours=3))
    assert _free(noon) == {"Copy Reader": False}, "time off taken"
    leave.delete()
    assert _free(noon) == {"Copy Reader": True}, "time off cancelled"

    # A queryset update (no model save, no signal) is seen as well: the trigger counts it.
    WeeklyShift.objects.filter(staff=member).update(starts=time(13), ends=time(20))
    assert _free(noon) == {"Copy Reader": False}, "shift moved after the window"
    StaffMember.objects.filter(pk=member.pk).update(roles=["moderator"])
    assert _free(noon) == {}, "role taken away"
    StaffMember.objects.filter(pk=member.pk).update(roles=["producer"], is_active=False)
    assert _free(noon) == {}, "member deactivated"
    StaffMember.objects.filter(pk=member.pk).update(is_active=True)
    add_member("Second Reader", ["producer"])
    assert _free(noon) == {"Copy Reader": False, "Second Reader": True}, "member added"


def test_a_write_bumps_the_generation_once_per_statement() -> None:
    before = _generation()
    member = add_member("Bulk Shifts", ["producer"])  # a user, a member, 7 shifts in bulk
    assert _generation() == before + 2
    WeeklyShift.objects.filter(staff=member).delete()
    assert _generation() == before + 3


def test_a_rolled_back_change_is_never_taken_for_the_committed_roster() -> None:
    noon = _noon()
    member = add_member("Steady Reader", ["producer"])
    assert _free(noon) == {"Steady Reader": True}
    with pytest.raises(RuntimeError), transaction.atomic():
        add_leave(member, noon - timedelta(hours=3))
        # Read inside the change's own transaction: this process's copy is now that one.
        assert _free(noon) == {"Steady Reader": False}
        raise RuntimeError("the admin's save failed after the time off was written")
    # Another change brings the count to what the rolled-back one had reached: the copy
    # read inside the rolled-back transaction must still not be taken for it.
    StaffMember.objects.filter(pk=member.pk).update(languages=["en", "fr"])
    assert _free(noon) == {"Steady Reader": True}


def test_without_its_generation_row_the_roster_is_read_afresh_until_a_write() -> None:
    """A flush of every table (TransactionTestCase, a restore) removes the row: reads
    then trust no copy, and the next roster write starts the count again."""
    noon = _noon()
    member = add_member("Flushed Reader", ["producer"])
    RosterGeneration.objects.all().delete()
    assert _free(noon) == {"Flushed Reader": True}
    add_leave(member, noon - timedelta(hours=3))
    assert _free(noon) == {"Flushed Reader": False}
    assert _generation() == 1
