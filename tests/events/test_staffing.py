"""Who can be put on a webinar: the role, shifts in the member's own zone (across DST),
leave, the rest gap, and the preference order with the reason the admin shows."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from events.models import Assignment
from events.selectors.staffing import event_window, load_candidates, team_judge
from tests.conftest import hold, make_organiser
from tests.events.staffing_helpers import add_leave, add_member
from webinars import services
from webinars.errors import TeamUnavailableError

pytestmark = [pytest.mark.django_db, pytest.mark.own_roster]
BERLIN = ZoneInfo("Europe/Berlin")


def _next_dst_change(zone: ZoneInfo, after_days: int = 4) -> date:
    """The first date at least `after_days` ahead whose noon offset differs from the day
    before's: the day after the clocks changed."""
    day = timezone.now().date() + timedelta(days=after_days)
    while True:
        before = datetime(day.year, day.month, day.day, 12, tzinfo=zone) - timedelta(days=1)
        if (
            before.utcoffset()
            != datetime(day.year, day.month, day.day, 12, tzinfo=zone).utcoffset()
        ):
            return day
        day += timedelta(days=1)


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)


def _day(days: int = 10) -> date:
    return (timezone.now() + timedelta(days=days)).date()


def test_shifts_follow_the_members_wall_clock_across_a_dst_change(organiser, package_10k):
    add_member("Anna Berlin", ["producer"], tz="Europe/Berlin", hours=("09:00", "17:00"))
    after = _next_dst_change(BERLIN)
    before = after - timedelta(days=2)
    for day in (before, after):
        ten = _local(day, 10).replace(tzinfo=BERLIN).astimezone(UTC)
        judge = team_judge(package_10k, 60, ten - timedelta(hours=2), ten + timedelta(hours=2))
        # 10:00 local: the window opens at 09:00 local, the start of the shift.
        assert judge(ten) is None, day
        # Half an hour earlier the preparation would start before the shift, in either
        # season, although the UTC instants differ by the change of offset.
        assert judge(ten - timedelta(minutes=30)) is not None, day
    webinar = hold(
        organiser,
        package_10k,
        start_local=_local(after, 10),
        timezone_name="Europe/Berlin",
        duration_minutes=60,
    )
    assert [a.staff.display_name for a in webinar.assignments.all()] == ["Anna Berlin"]
    with pytest.raises(TeamUnavailableError):
        hold(
            organiser,
            package_10k,
            start_local=_local(after, 9, 30),
            timezone_name="Europe/Berlin",
            duration_minutes=60,
        )


def test_an_overnight_shift_runs_into_the_next_day(package_10k):
    add_member("Night Owl", ["producer"], tz="America/New_York", hours=("22:00", "06:00"))
    day = _day()
    start = _local(day + timedelta(days=1), 2).replace(tzinfo=ZoneInfo("America/New_York"))
    judge = team_judge(package_10k, 60, start, start)
    assert judge(start) is None
    assert judge(start + timedelta(hours=3)) is not None  # wrap-up past 06:00


def test_time_off_rules_a_member_out(organiser, package_10k):
    member = add_member("Leave Taker", ["producer"])
    day = _day()
    add_leave(member, datetime(day.year, day.month, day.day, tzinfo=UTC))
    with pytest.raises(TeamUnavailableError) as refused:
        hold(organiser, package_10k, start_local=_local(day, 12), timezone_name="UTC")
    assert refused.value.code == "no_team" and refused.value.http_status == 409
    # The next day they are back.
    webinar = hold(
        organiser, package_10k, start_local=_local(day + timedelta(days=1), 12), timezone_name="UTC"
    )
    assert webinar.assignments.get().staff == member


def test_the_rest_gap_keeps_a_member_off_back_to_back_events(organiser, package_10k):
    add_member("Solo Producer", ["producer"])
    day = _day()
    first = hold(organiser, package_10k, start_local=_local(day, 10), timezone_name="UTC")
    # 10:00-11:30 with prep and wrap-up is 09:00-12:00; the rest runs to 13:00, so the next
    # window may open at 13:00 (a 14:00 start) but not at 12:45.
    with pytest.raises(TeamUnavailableError):
        hold(
            organiser,
            package_10k,
            start_local=_local(day, 13, 45),
            timezone_name="UTC",
        )
    second = hold(organiser, package_10k, start_local=_local(day, 14), timezone_name="UTC")
    assert first.assignments.get().staff == second.assignments.get().staff


def test_the_database_refuses_overlapping_active_assignments(organiser, package_10k):
    member = add_member("Solo Producer", ["producer"])
    webinar = hold(organiser, package_10k, start_local=_local(_day(), 10), timezone_name="UTC")
    taken = webinar.assignments.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            webinar=webinar,
            staff=member,
            role="producer",
            window=(taken.window.lower + timedelta(hours=1), taken.window.upper),
            blocked=(taken.window.lower + timedelta(hours=1), taken.blocked.upper),
        )
    # A released assignment no longer blocks anyone.
    services.cancel_booking(webinar, actor=None)
    assert Assignment.objects.get(pk=taken.pk).status == "released"
    hold(organiser, package_10k, start_local=_local(_day(), 10), timezone_name="UTC")


def test_a_role_needs_its_own_person_even_if_one_could_fill_both(organiser, catalogue):
    from webinars.models import Package

    package_50k = Package.objects.get(code="50k")  # producer + technical lead
    add_member("All Rounder", ["producer", "technical_lead"])
    with pytest.raises(TeamUnavailableError):
        hold(organiser, package_50k, start_local=_local(_day(), 12), timezone_name="UTC")
    add_member("Tech Only", ["technical_lead"])
    webinar = hold(organiser, package_50k, start_local=_local(_day(), 12), timezone_name="UTC")
    # The all-rounder must produce: the technical lead is the only one who can lead.
    assert {(a.role, a.staff.display_name) for a in webinar.assignments.all()} == {
        ("producer", "All Rounder"),
        ("technical_lead", "Tech Only"),
    }


def test_preference_language_then_history_then_fewest_recent_hours(package_10k):
    german = make_organiser("greta@kunde.example", "Kunde GmbH", country="DE")
    organisation = german.membership.organisation
    add_member("Busy Bea", ["producer"], languages=("en",))
    add_member("Chris Calm", ["producer"], languages=("en",))
    day = _day(12)
    # Bea already has a recent assignment: 3.5 hours on another webinar.
    other = make_organiser("olga@other.example", "Other Org")
    busy = hold(other, package_10k, start_local=_local(day, 2), timezone_name="UTC")
    assert busy.assignments.get().staff.display_name == "Busy Bea"  # tie: by name
    # Fewest recent hours: Chris.
    first = hold(german, package_10k, start_local=_local(day, 12), timezone_name="UTC")
    chosen = first.assignments.get()
    assert chosen.staff.display_name == "Chris Calm"
    assert "0 h assigned in the last 30 days" in chosen.reason
    assert "does not speak the organiser's language (German): nobody free does" in chosen.reason
    services.confirm_booking(first, actor=None)
    # Worked with this organiser before beats fewer hours: Chris again, though busier now.
    second = hold(german, package_10k, start_local=_local(day, 20), timezone_name="UTC")
    assert second.assignments.get().staff.display_name == "Chris Calm"
    assert "worked with this organiser on 1 webinar(s) before" in second.assignments.get().reason
    # Speaking the organiser's language beats both.
    add_member("Dieter Deutsch", ["producer"], languages=("de", "en"))
    third = hold(
        german, package_10k, start_local=_local(day + timedelta(days=1), 12), timezone_name="UTC"
    )
    chosen = third.assignments.get()
    assert chosen.staff.display_name == "Dieter Deutsch"
    assert chosen.reason.startswith("Chosen as producer from 3 free: speaks German")
    assert organisation.country == "DE"


def test_candidates_are_read_for_the_whole_span_once(package_10k):
    member = add_member("Span Reader", ["producer"], hours=("08:00", "18:00"))
    day = _day()
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    [candidate] = load_candidates(
        ["producer"], (noon - timedelta(days=1), noon + timedelta(days=1))
    )
    assert candidate.id == member.id
    assert candidate.free_for(event_window(noon, 60))
    assert not candidate.free_for(event_window(noon.replace(hour=17), 60))
