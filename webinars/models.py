"""Catalogue, organisations, webinar bookings, the fleet ledger and the audit log.

Fields, states, constraints and single-row properties only: every write lives in
`webinars/services/`.
"""

import secrets
import uuid
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from webinars.countries import validate_country

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud on the phone


def new_booking_code() -> str:
    return "W-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> "User":
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """Organisers, Event Services staff and finance all log in with their email."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()  # type: ignore[misc]

    def __str__(self) -> str:
        return self.email


class Package(models.Model):
    """One row of the public catalogue. Bookings snapshot what they need from it, so
    editing a price or lead time never alters an existing booking."""

    code = models.SlugField(max_length=10, unique=True)
    name = models.CharField(max_length=60)
    capacity = models.PositiveIntegerField(help_text=_("Concurrent attendees."))
    price_minor = models.PositiveBigIntegerField(help_text=_("Price in minor units (cents)."))
    currency = models.CharField(max_length=3, default="USD")
    lead_time_days = models.PositiveSmallIntegerField()
    min_duration_minutes = models.PositiveSmallIntegerField(default=30)
    max_duration_minutes = models.PositiveSmallIntegerField(default=240)
    staff_roles = models.JSONField(
        default=dict, help_text=_('Included Event Services staff, e.g. {"producer": 1}.')
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["capacity"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_duration_minutes__lte=F("max_duration_minutes")),
                name="package_duration_range_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.capacity:,} attendees)"

    @property
    def warmup_minutes(self) -> int:
        # Larger clusters take longer to boot, join the fan-out tree and warm up.
        return 60 if self.capacity <= 100_000 else 120


class Region(models.Model):
    """An audience region with its own relay fleet (the maximum relay nodes it can run)."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=60)
    latitude = models.DecimalField(max_digits=8, decimal_places=5)
    longitude = models.DecimalField(max_digits=8, decimal_places=5)
    fleet_size = models.PositiveIntegerField(default=1200)
    sort_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Organisation(models.Model):
    """The buyer: billing details are snapshotted onto invoices when they are issued."""

    # The billing details an organiser edits and an invoice snapshots.
    BILLING_FIELDS = (
        "legal_name",
        "address_line1",
        "address_line2",
        "city",
        "postal_code",
        "country",
        "vat_id",
        "billing_email",
        "po_number",
    )

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    legal_name = models.CharField(max_length=200)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(
        max_length=2, validators=[validate_country], help_text=_("ISO 3166-1 alpha-2 code.")
    )
    vat_id = models.CharField(_("VAT / tax id"), max_length=32, blank=True)
    billing_email = models.EmailField()
    po_number = models.CharField(_("PO number"), max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["legal_name"]

    def __str__(self) -> str:
        return self.legal_name


class Membership(models.Model):
    """Which users act for which organisation; organisers see only their organisation."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MEMBER = "member", _("Member")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.OWNER)

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation}"


class Webinar(models.Model):
    """A booking of one capacity package for one webinar, from hold to completion."""

    class Status(models.TextChoices):
        HELD = "held", _("Held")
        AWAITING_FUNDS = "awaiting_funds", _("Awaiting funds")
        CONFIRMED = "confirmed", _("Confirmed")
        LIVE = "live", _("Live")
        COMPLETED = "completed", _("Completed")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    # States in which the webinar occupies fleet capacity.
    HOLDING_STATUSES = (Status.HELD, Status.AWAITING_FUNDS, Status.CONFIRMED, Status.LIVE)
    # States an organiser or Event Services may still cancel (not once it is live).
    CANCELLABLE_STATUSES = (Status.HELD, Status.AWAITING_FUNDS, Status.CONFIRMED)
    # Holds waiting for their payment: they expire when it does not come.
    UNPAID_STATUSES = (Status.HELD, Status.AWAITING_FUNDS)

    code = models.CharField(max_length=12, unique=True, default=new_booking_code, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="webinars"
    )
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    title = models.CharField(max_length=200)
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="webinars")
    # Snapshot of the package at hold time: the price paid and the capacity delivered.
    capacity = models.PositiveIntegerField()
    price_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    start_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField()
    time_zone = models.CharField(max_length=64, help_text=_("IANA zone used for display."))
    audience_preset = models.CharField(max_length=32, blank=True)
    audience_split = models.JSONField(help_text=_("Region code -> share in basis points."))
    cluster_plan = models.JSONField(help_text=_("Sizing result at hold time."))
    cancellation_policy = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            "The refund tiers this booking was sold under (copied at hold time); empty for "
            "bookings made before bookings kept their policy, which follow the configured one."
        ),
    )
    occupied_from = models.DateTimeField()
    occupied_until = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.HELD)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    funds_deadline = models.DateTimeField(null=True, blank=True)
    needs_attention = models.BooleanField(default=False)
    attention_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start_at"]
        indexes = [
            # The hold sweeper: held bookings whose hold has run out.
            models.Index(
                fields=["hold_expires_at"],
                name="webinar_held_expiry_idx",
                condition=Q(status="held"),
            ),
            # Organiser dashboard: an organisation's webinars by start.
            models.Index(fields=["organisation", "start_at"], name="webinar_org_start_idx"),
            # Staff calendar and admin filters: status within a date range.
            models.Index(fields=["status", "start_at"], name="webinar_status_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(occupied_from__lt=F("occupied_until")),
                name="webinar_occupancy_window_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def end_at(self) -> datetime:
        return self.start_at + timedelta(minutes=self.duration_minutes)

    @property
    def holds_capacity(self) -> bool:
        return self.status in self.HOLDING_STATUSES

    @property
    def total_nodes(self) -> int:
        return int(self.cluster_plan.get("total_nodes", 0))


class FleetSlot(models.Model):
    """The fleet ledger: relay nodes committed in one region during one 15-minute slot.

    Rows are created on first use with the region's fleet size as capacity; the CHECK
    constraint is the last line of defence against overselling, under the row locks that
    `webinars.fleet` takes in a fixed order.
    """

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="slots")
    slot_start = models.DateTimeField()
    capacity = models.PositiveIntegerField()
    used = models.IntegerField(default=0)

    class Meta:
        ordering = ["region", "slot_start"]
        constraints = [
            # Also the index for every availability lookup (region, time range).
            models.UniqueConstraint(fields=["region", "slot_start"], name="fleetslot_unique"),
            models.CheckConstraint(
                condition=Q(used__gte=0) & Q(used__lte=F("capacity")),
                name="fleetslot_within_capacity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region.code} {self.slot_start:%Y-%m-%d %H:%M} {self.used}/{self.capacity}"


class FleetReservation(models.Model):
    """What one webinar occupies in one region; released exactly once."""

    webinar = models.ForeignKey(Webinar, on_delete=models.CASCADE, related_name="reservations")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    nodes = models.PositiveIntegerField()
    slot_from = models.DateTimeField()
    slot_until = models.DateTimeField(help_text=_("Exclusive end of the last slot."))
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["webinar", "region"], name="reservation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.webinar.code} {self.region.code} x{self.nodes}"


class AuditEntry(models.Model):
    """One row per state change, in every app: who did what to which object, and when."""

    created_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=32)
    subject_code = models.CharField(max_length=64)
    webinar = models.ForeignKey(
        Webinar, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_entries"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            # Status timeline on the webinar detail page.
            models.Index(fields=["webinar", "created_at"], name="audit_webinar_idx"),
            # Admin search by object.
            models.Index(fields=["subject_type", "subject_code"], name="audit_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.subject_code}"
