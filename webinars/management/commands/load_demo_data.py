"""Demo logins and a few bookings for `make run`. Safe to run again: it only adds what is
missing."""

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.utils import timezone

from webinars import services
from webinars.errors import BookingError
from webinars.models import Package, User

DEMO_USERS = [
    # email, password, staff, superuser, group
    ("organiser@example.com", "demo-organiser", False, False, None),
    ("staff@example.com", "demo-staff", True, False, "Event Services"),
    ("admin@example.com", "demo-admin", True, True, None),
    ("finance@example.com", "demo-finance", True, False, "Finance"),
]


class Command(BaseCommand):
    help = "Create demo users, an organisation and sample bookings (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        for email, password, staff, superuser, group in DEMO_USERS:
            user, created = User.objects.get_or_create(
                email=email, defaults={"is_staff": staff, "is_superuser": superuser}
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            if group:
                group_obj, _ = Group.objects.get_or_create(name=group)
                user.groups.add(group_obj)
        organiser = User.objects.get(email="organiser@example.com")
        if not hasattr(organiser, "membership"):
            services.create_organisation(
                organiser,
                actor=organiser,
                legal_name="Acme Campaigns Inc",
                address_line1="350 Fifth Avenue",
                city="New York",
                postal_code="10118",
                country="US",
                billing_email="billing@acme.example",
                po_number="PO-2027-001",
            )
            organiser.refresh_from_db()
        if not organiser.membership.organisation.webinars.exists():
            self._sample_bookings(organiser)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def _sample_bookings(self, organiser: User) -> None:
        day = (timezone.now() + timedelta(days=40)).date()
        samples = [
            ("Quarterly all-hands", "10k", 15, "north-america", None),
            ("Product launch keynote", "250k", 17, "global", None),
        ]
        for title, code, hour, preset, split in samples:
            try:
                webinar = services.book_webinar(
                    organiser.membership.organisation,
                    actor=organiser,
                    title=title,
                    package=Package.objects.get(code=code),
                    start_local=datetime(day.year, day.month, day.day, hour, 0),
                    timezone_name="America/New_York",
                    duration_minutes=120,
                    preset=preset,
                    custom_split=split,
                )
            except BookingError as exc:
                self.stderr.write(f"skipped {title}: {exc.message}")
                continue
            if code == "10k":
                services.confirm_booking(webinar, actor=None, data={"demo": True})
