"""Event Services staffing: the roster (staff members, their weekly shifts and time off)
and the assignments that put people on webinars.

A member's time is inventory, like the fleet: PostgreSQL refuses two active assignments
of one person whose `blocked` ranges overlap (an exclusion constraint), whatever path
writes them. Only `events.services.staffing` writes assignments.
"""

import secrets
import uuid
from datetime import timedelta
from functools import cache
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from webinars.models import Webinar

# The event window an assignment covers around the webinar itself, and the rest a person
# gets before their next assignment (the exclusion constraint enforces the rest).
PREP = timedelta(minutes=60)
WRAP_UP = timedelta(minutes=30)
REST = timedelta(minutes=60)


class StaffRole(models.TextChoices):
    """The role codes of the catalogue (`Package.staff_roles`), in order of seniority."""

    PRODUCER = "producer", _("Producer")
    TECHNICAL_LEAD = "technical_lead", _("Technical lead")
    MODERATOR = "moderator", _("Moderator")
    STREAM_ENGINEER = "stream_engineer", _("Stream engineer")


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_time_zone(name: str) -> None:
    if name not in _known_zones():
        raise ValidationError(
            _("Unknown time zone '%(tz)s'. Use an IANA name such as Europe/Berlin."),
            params={"tz": name},
        )


validate_language = RegexValidator(
    r"^[a-z]{2,3}$", _("Use a lower-case ISO 639 language code such as en, de or pt.")
)


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class StaffMember(models.Model):
    """A person of Event Services who can be put on webinars: which roles they fill, which
    languages they work in, and the time zone their shifts are written in."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="staff_member",
        limit_choices_to={"is_staff": True},
    )
    display_name = models.CharField(max_length=100)
    roles = ArrayField(
        models.CharField(max_length=20, choices=StaffRole.choices),
        default=list,
        help_text=_("Roles this person can fill on a webinar."),
    )
    languages = ArrayField(
        models.CharField(max_length=3, validators=[validate_language]),
        default=list,
        blank=True,
        help_text=_("ISO 639 codes, e.g. en, de, pt."),
    )
    time_zone = models.CharField(
        max_length=64,
        validators=[validate_time_zone],
        help_text=_("IANA zone the weekly shifts are written in, e.g. Europe/Berlin."),
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The secret of the member's calendar feed URL (/events/staff/calendar/<token>.ics):
    # random, unguessable, and replaced (which revokes the old URL) by saving a new one.
    calendar_token = models.CharField(
        max_length=64, unique=True, default=new_calendar_token, editable=False
    )

    class Meta:
        ordering = ["display_name"]
        indexes = [
            # The assigner's candidate query: active members having a role.
            models.Index(fields=["is_active"], name="staff_active_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name


class WeeklyShift(models.Model):
    """A recurring shift in the member's own zone. Availability is computed per date (the
    wall-clock times convert to UTC with that date's offset), so a 09:00-17:00 shift stays
    09:00-17:00 local across daylight-saving changes. An end at or before the start runs
    into the next day (22:00-06:00); start = end is a 24-hour shift."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="shifts")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField(help_text=_("Local time in the member's zone."))
    ends = models.TimeField(help_text=_("Local; at or before the start means the next day."))

    class Meta:
        ordering = ["staff", "weekday", "starts"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class TimeOff(models.Model):
    """Leave: the member is not available in [starts_at, ends_at) whatever their shifts."""

    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["staff", "starts_at"]
        verbose_name_plural = "time off"
        indexes = [
            # Availability: a member's leave overlapping a window.
            models.Index(fields=["staff", "starts_at"], name="timeoff_staff_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="timeoff_range_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff} off {self.starts_at:%Y-%m-%d %H:%M} - {self.ends_at:%Y-%m-%d %H:%M}"


class RosterGeneration(models.Model):
    """One row counting the roster's changes: PostgreSQL triggers (migration
    0009_roster_generation) bump it in the same transaction as any write to staff
    members, their shifts or their time off, whatever path writes them. Readers key a
    per-process copy of the roster on `value` and the row's `xmin` (the writing
    transaction), so the assigner reads the roster again only after it changed, and a
    rolled-back change can never be mistaken for a committed one."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="roster_generation_one")]

    def __str__(self) -> str:
        return f"roster generation {self.value}"


class Assignment(models.Model):
    """One person in one role on one webinar. Placed `tentative` in the hold's transaction,
    `confirmed` with the booking, `released` when the hold expires or the booking is
    cancelled. `window` is the work (the event with its preparation and wrap-up);
    `blocked` adds the rest after it, and active assignments of one person never share a
    moment of `blocked` (the exclusion constraint)."""

    class Status(models.TextChoices):
        TENTATIVE = "tentative", _("Tentative")
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined")
        RELEASED = "released", _("Released")

    ACTIVE_STATUSES = (Status.TENTATIVE, Status.CONFIRMED)

    class Kind(models.TextChoices):
        # A rehearsal (30-minute tech check with the organiser) is an assignment too, so
        # the same exclusion constraint keeps it off the lead's other work.
        EVENT = "event", _("Event")
        REHEARSAL = "rehearsal", _("Rehearsal")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No single-column indexes on the two keys: the composite indexes below lead with
    # them, and every hold inserts a team (an index less per row is a faster hold).
    webinar = models.ForeignKey(
        Webinar, on_delete=models.CASCADE, related_name="assignments", db_index=False
    )
    staff = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="assignments", db_index=False
    )
    role = models.CharField(max_length=20, choices=StaffRole.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.TENTATIVE)
    window = DateTimeRangeField(help_text=_("The event, 60 min before to 30 min after."))
    blocked = DateTimeRangeField(help_text=_("The window plus the 60-minute rest after it."))
    reason = models.TextField(blank=True, help_text=_("Why the assigner chose this person."))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Invitations (events.services.invitations): when the email went out and when the
    # person accepted; pending = invited and not yet accepted.
    kind = models.CharField(
        max_length=10, choices=Kind.choices, default=Kind.EVENT, db_default=Kind.EVENT
    )
    invited_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["webinar", "role", "id"]
        indexes = [
            # A webinar's team (confirm, release, panel).
            models.Index(fields=["webinar", "status"], name="assignment_webinar_idx"),
            # Fairness: a member's assigned hours over the last 30 days.
            models.Index(fields=["staff", "created_at"], name="assignment_staff_time_idx"),
        ]
        constraints = [
            # No double-booking, in PostgreSQL: one person's active assignments never
            # overlap, rest included (btree_gist for the equality on staff).
            ExclusionConstraint(
                name="assignment_no_overlap",
                expressions=[
                    ("staff", RangeOperators.EQUAL),
                    ("blocked", RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=("tentative", "confirmed")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff} as {self.get_role_display()} ({self.status})"
