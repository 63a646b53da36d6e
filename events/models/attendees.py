"""Event Services: a webinar's registrants. Who is watching *now* lives in Redis (the join
path runs no SQL); PostgreSQL keeps who registered, for the dashboard and the reports."""

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from webinars.models import Webinar


class Registrant(models.Model):
    """One person registered for one webinar. Their personal join link is a signed token
    (`events.tokens`) built from this row's id, the webinar code and the region, so joining
    never reads this table. Emails are stored lower-cased: one registration per address."""

    class Source(models.TextChoices):
        FORM = "form", _("Registration page")
        IMPORT = "import", _("Invitee import")

    webinar = models.ForeignKey(Webinar, on_delete=models.CASCADE, related_name="registrants")
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
