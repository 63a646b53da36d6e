"""Emails of Event Services operations: the organiser and Event Services when a cluster is
ready, Event Services alone for alerts (late cluster, no spare left, leaked resources)."""

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from webinars.formatting import format_in_zone
from webinars.models import Webinar


def _link(webinar: Webinar) -> str:
    return settings.SITE_URL + reverse("webinars:detail", args=[webinar.code])


def cluster_ready(webinar: Webinar, *, nodes: int, ready_at_utc: object) -> None:
    when = format_in_zone(ready_at_utc, webinar.time_zone)  # type: ignore[arg-type]
    starts = format_in_zone(webinar.start_at, webinar.time_zone)
    send_mail(
        f"Relay cluster ready for {webinar.code}",
        f'The relay cluster of "{webinar.title}" ({webinar.code}) is ready: {nodes} nodes '
        f"serving since {when}. The webinar starts {starts}.\n\n{_link(webinar)}\n",
        None,
        [webinar.organisation.billing_email, settings.EVENT_SERVICES_EMAIL],
    )


def alert(webinar: Webinar, subject: str, detail: str) -> None:
    send_mail(
        f"[relay alert] {webinar.code}: {subject}",
        f'{detail}\n\nWebinar "{webinar.title}" starts '
        f"{format_in_zone(webinar.start_at, webinar.time_zone)}.\n\n{_link(webinar)}\n",
        None,
        [settings.EVENT_SERVICES_EMAIL],
    )
