"""Event Services: what attendance a webinar had, kept in PostgreSQL once it is over.

While the webinar runs, attendance lives in Redis (`events.services.admission`); at
completion it is summarised here, so the report and its CSV outlive Redis's retention."""

from django.db import models

from webinars.models import Webinar


class AttendanceSummary(models.Model):
    """One webinar's attendance, recorded at completion (recorded again if it runs later:
    the newest figures win). `by_region` rows: {region, registered, attended, watched_s};
    `series`: [[minute (epoch seconds), concurrent viewers], ...] for the chart."""

    webinar = models.OneToOneField(
        Webinar, on_delete=models.CASCADE, related_name="attendance_summary"
    )
    registered = models.PositiveIntegerField()
    attended = models.PositiveIntegerField()
    peak_concurrent = models.PositiveIntegerField()
    watched_seconds = models.PositiveBigIntegerField()
    by_region = models.JSONField(default=list)
    series = models.JSONField(default=list)
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "attendance summaries"

    def __str__(self) -> str:
        return f"{self.webinar.code}: {self.attended}/{self.registered} attended"

    @property
    def code(self) -> str:  # what the audit trail names
        return self.webinar.code

    @property
    def average_minutes(self) -> float:
        return self.watched_seconds / 60 / self.attended if self.attended else 0.0
