"""Event Services: a webinar's registrants. Who is watching *now* lives in Redis (the join
path runs no SQL); PostgreSQL keeps who registered, for the dashboard and the reports."""

import uuid

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from webinars.models import User, Webinar


class Registrant(models.Model):
    """One person registered for one webinar. Their personal join link is a signed token
    (`events.tokens`) built from this row's id, the webinar code and the region, so joining
    never reads this table. Emails are stored lower-cased: one registration per address."""

    class Source(models.TextChoices):
        FORM = "form", _("Registration page")
        IMPORT = "import", _("Invitee import")

    # No index of its own: the unique (webinar, email) index leads with the webinar and
    # serves every lookup by webinar; one index fewer to maintain on a million-row import.
    webinar = models.ForeignKey(
        Webinar, on_delete=models.CASCADE, related_name="registrants", db_index=False
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    country = models.CharField(max_length=2, blank=True, help_text=_("ISO 3166-1 alpha-2."))
    region = models.CharField(
        max_length=20, blank=True, help_text=_("Audience region code, from the country.")
    )
    consent_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.FORM)
    link_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["webinar", "id"]
        constraints = [
            models.UniqueConstraint(fields=["webinar", "email"], name="registrant_unique_email"),
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="registrant_email_lower"
            ),
        ]
        indexes = [
            # Dashboard and attendance report: counts per region.
            models.Index(fields=["webinar", "region"], name="registrant_webinar_region_idx"),
            # The mailer: registrants whose link has not gone out yet.
            models.Index(
                fields=["webinar", "id"],
                name="registrant_link_unsent_idx",
                condition=models.Q(link_sent_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Registration(models.Model):
    """Whether a webinar's public registration page takes sign-ups. One row per webinar,
    created when the organiser first opens it; registrants imported from a CSV file do not
    need it to be open."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    webinar = models.OneToOneField(Webinar, on_delete=models.CASCADE, related_name="registration")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.webinar.code} registration ({self.state})"

    @property
    def code(self) -> str:
        # Audit rows name the webinar: the registration has no identity of its own.
        return self.webinar.code

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN


def import_upload_path(instance: "InviteeImport", filename: str) -> str:
    return f"invitee-imports/{instance.code}.csv"


class InviteeImport(models.Model):
    """One CSV file of invitees an organiser uploaded, and what became of it. The file is
    kept (private storage) only until it has been imported or refused; `errors` holds the
    first rows that failed, `error_count` all of them."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        REFUSED = "refused", _("Refused: nothing imported")

    FINISHED_STATES = (State.DONE, State.REFUSED)

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    webinar = models.ForeignKey(Webinar, on_delete=models.CASCADE, related_name="invitee_imports")
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    file = models.FileField(upload_to=import_upload_path, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    rows = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text=_("[line, message] pairs."))
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename or self.code} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in self.FINISHED_STATES
