"""Rosters for the staffing tests: members with their shifts, written as a lead would
enter them in the admin (wall-clock times in the member's own zone)."""

from datetime import datetime, time, timedelta

from events.models import StaffMember, TimeOff, WeeklyShift
from webinars.models import User

EVERY_DAY = range(7)


def add_member(
    name: str,
    roles: list[str],
    *,
    tz: str = "UTC",
    hours: tuple[str, str] = ("00:00", "00:00"),
    days: range | list[int] = EVERY_DAY,
    languages: tuple[str, ...] = ("en",),
) -> StaffMember:
    """A member on shift `hours` (local, in `tz`) on `days`; the default is around the clock."""
    slug = name.lower().replace(" ", ".")
    user = User.objects.create_user(email=f"{slug}@megawebinar.example", is_staff=True)
    member = StaffMember.objects.create(
        user=user, display_name=name, roles=roles, languages=list(languages), time_zone=tz
    )
    starts, ends = (time.fromisoformat(h) for h in hours)
    WeeklyShift.objects.bulk_create(
        WeeklyShift(staff=member, weekday=day, starts=starts, ends=ends) for day in days
    )
    return member


def add_leave(member: StaffMember, starts_at: datetime, days: int = 1) -> TimeOff:
    return TimeOff.objects.create(
        staff=member, starts_at=starts_at, ends_at=starts_at + timedelta(days=days)
    )
