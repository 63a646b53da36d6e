"""The demo Event Services roster for `make run`: about 20 people over seven time zones,
so the live quote's staff check is visible (a 1M webinar needs four moderators and two
stream engineers at once; at night in every zone there is nobody). Safe to run again:
it only adds members that are missing. Runs before `load_demo_data`, whose sample
bookings need a team."""

from datetime import time
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from events.models import StaffMember, WeeklyShift
from webinars.models import User

WEEKDAYS = (0, 1, 2, 3, 4)
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
WEEKEND = (5, 6)

# name, roles, languages, zone, [(days, start, end)] in the member's own zone
DEMO_STAFF: list[tuple[str, list[str], list[str], str, list[tuple[tuple[int, ...], str, str]]]] = [
    ("Maya Chen", ["producer"], ["en", "zh"], "America/New_York",
     [(WEEKDAYS, "08:00", "20:00")]),
    ("Jordan Brooks", ["producer", "technical_lead"], ["en"], "America/New_York",
     [(EVERY_DAY, "11:00", "23:00")]),
    ("Luis Ortega", ["technical_lead"], ["en", "es"], "America/New_York",
     [(WEEKDAYS, "09:00", "21:00")]),
    ("Aisha Khan", ["moderator"], ["en", "ur"], "America/New_York",
     [(EVERY_DAY, "10:00", "22:00")]),
    ("Noah Williams", ["moderator"], ["en"], "America/Chicago",
     [(EVERY_DAY, "12:00", "22:00")]),
    ("Sam Rivera", ["moderator", "producer"], ["en", "es"], "America/Los_Angeles",
     [(WEEKDAYS, "08:00", "18:00"), (WEEKEND, "10:00", "18:00")]),
    ("Kai Nakamura", ["stream_engineer"], ["en", "ja"], "America/Los_Angeles",
     [(EVERY_DAY, "12:00", "23:00")]),
    ("Beatriz Souza", ["moderator"], ["pt", "es", "en"], "America/Sao_Paulo",
     [(WEEKDAYS, "09:00", "19:00")]),
    ("Rafael Lima", ["producer", "stream_engineer"], ["pt", "en"], "America/Sao_Paulo",
     [(WEEKDAYS, "12:00", "22:00")]),
    ("Olivia Hughes", ["producer"], ["en", "fr"], "Europe/London",
     [(WEEKDAYS, "08:00", "18:00")]),
    ("Tom Fletcher", ["technical_lead", "stream_engineer"], ["en"], "Europe/London",
     [(EVERY_DAY, "14:00", "02:00")]),
    ("Claire Dubois", ["moderator"], ["fr", "en"], "Europe/London",
     [(WEEKDAYS, "09:00", "17:00")]),
    ("Lena Wagner", ["producer"], ["de", "en"], "Europe/Berlin",
     [(WEEKDAYS, "08:00", "18:00")]),
    ("Jonas Becker", ["technical_lead"], ["de", "en"], "Europe/Berlin",
     [(WEEKDAYS, "07:00", "17:00")]),
    ("Sofia Rossi", ["moderator"], ["it", "de", "en"], "Europe/Berlin",
     [(WEEKDAYS, "10:00", "20:00")]),
    ("Emil Novak", ["stream_engineer"], ["de", "cs", "en"], "Europe/Berlin",
     [(EVERY_DAY, "06:00", "16:00")]),
    ("Priya Raman", ["stream_engineer", "technical_lead"], ["en", "hi", "ta"], "Asia/Kolkata",
     [(WEEKDAYS, "10:00", "20:00")]),
    ("Arjun Mehta", ["moderator"], ["en", "hi"], "Asia/Kolkata",
     [(WEEKDAYS, "12:00", "22:00")]),
    ("Wei Ling Tan", ["producer", "moderator"], ["en", "zh", "ms"], "Asia/Singapore",
     [(WEEKDAYS, "09:00", "19:00")]),
    ("Hiro Sato", ["technical_lead"], ["ja", "en"], "Asia/Tokyo",
     [(WEEKDAYS, "09:00", "18:00")]),
    ("Grace O'Neill", ["moderator"], ["en"], "Australia/Sydney",
     [(WEEKDAYS, "08:00", "17:00")]),
]  # fmt: skip


def _email(name: str) -> str:
    slug = "".join(ch for ch in name.lower().replace(" ", ".") if ch.isalnum() or ch == ".")
    return f"{slug}@megawebinar.example"


class Command(BaseCommand):
    help = "Create the demo Event Services roster (idempotent)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        group, _ = Group.objects.get_or_create(name="Event Services")
        added = 0
        for name, roles, languages, zone, shifts in DEMO_STAFF:
            user, created = User.objects.get_or_create(
                email=_email(name), defaults={"is_staff": True, "first_name": name}
            )
            if created:
                user.set_unusable_password()  # roster entries only; nobody logs in as them
                user.save(update_fields=["password"])
                user.groups.add(group)
            if StaffMember.objects.filter(user=user).exists():
                continue
            member = StaffMember.objects.create(
                user=user, display_name=name, roles=roles, languages=languages, time_zone=zone
            )
            WeeklyShift.objects.bulk_create(
                WeeklyShift(
                    staff=member,
                    weekday=day,
                    starts=time.fromisoformat(start),
                    ends=time.fromisoformat(end),
                )
                for days, start, end in shifts
                for day in days
            )
            added += 1
        self.stdout.write(self.style.SUCCESS(f"Demo Event Services roster ready ({added} added)."))
