"""Personal join links by email, in batches: a run sends up to ATTENDEE_EMAIL_BATCH
registrants whose link has not gone out, marks them, and the task queues the next run.

Throttling is global: every run, on any worker and for any webinar, draws one token per
email from one Redis token bucket (ATTENDEE_EMAILS_PER_MINUTE, `events.ratelimit`), so ten
workers send no faster than one. Without tokens a run sends nothing and says how
long to wait; the task queues the next run that much later.

Batches are claimed with `SELECT ... FOR UPDATE SKIP LOCKED`, so two runs never send the
same registrant, and marked in the transaction that sent them: a worker killed between
sending and committing sends that batch again (a link twice rather than never).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.message import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from icalendar import Calendar, Event

from events.models import Registrant
from events.ratelimit import TokenBucket, redis_client
from events.services.registration import MAILER_FLAG_TTL_S, OPEN_STATUSES, mailer_flag_key
from events.tokens import join_token
from webinars.emails import make_message
from webinars.formatting import format_in_zone
from webinars.models import Webinar

BUCKET_NAME = "attendee-email"


@dataclass(frozen=True)
class Batch:
    sent: int
    more: bool
    wait_s: float = 0.0


def join_url(webinar: Webinar, registrant: Registrant) -> str:
    """The personal link: a signed token (no database read to check it) under /j/."""
    token = join_token(webinar.code, registrant.pk, registrant.region)
    return f"{settings.ATTENDEE_JOIN_BASE_URL}/j/{token}/"


def calendar_invitation(webinar: Webinar, link: str, *, now: datetime) -> bytes:
    """An .ics event for the webinar's time (UTC; calendars show it in the reader's zone),
    with the personal link as its URL and description."""
    calendar = Calendar()
    calendar.add("prodid", "-//Mega Webinars//join link//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    # One uid per webinar: a resent invitation updates the calendar entry, not a second one.
    event.add("uid", f"{webinar.code}@{host}")
    event.add("dtstamp", now)
    event.add("dtstart", webinar.start_at)
    event.add("dtend", webinar.end_at)
    event.add("summary", webinar.title)
    event.add("description", f"Your personal link (do not share it): {link}")
    event.add("url", link)
    calendar.add_component(event)
    return calendar.to_ical()


def join_link_message(
    webinar: Webinar, registrant: Registrant, *, now: datetime
) -> EmailMultiAlternatives:
    link = join_url(webinar, registrant)
    return make_message(
        "join-link",
        registrant.email,
        {
            "webinar": webinar,
            "registrant": registrant,
            "link": link,
            "starts": format_in_zone(webinar.start_at, webinar.time_zone),
            "doors_open_minutes": settings.ATTENDEE_DOORS_OPEN_MINUTES,
        },
        attachments=[("webinar.ics", calendar_invitation(webinar, link, now=now), "text/calendar")],
    )


def mail_bucket() -> TokenBucket:
    per_minute = float(settings.ATTENDEE_EMAILS_PER_MINUTE)
    return TokenBucket(
        BUCKET_NAME, rate=per_minute / 60, burst=max(int(settings.ATTENDEE_EMAIL_BATCH), 1)
    )


def send_link_batch(webinar_id: int) -> Batch:
    """Send one batch of pending links of the webinar. Nothing is sent once the webinar is
    cancelled, expired or over."""
    webinar = Webinar.objects.get(pk=webinar_id)
    # Cleared before reading what is pending: registrations committed from now on wake a
    # new run, those committed before are in this one (events.services.registration).
    redis_client().delete(mailer_flag_key(webinar))
    if webinar.status not in OPEN_STATUSES:
        return Batch(sent=0, more=False)
    size = max(int(settings.ATTENDEE_EMAIL_BATCH), 1)
    with transaction.atomic():
        batch = list(
            Registrant.objects.select_for_update(skip_locked=True)
            .filter(webinar=webinar, link_sent_at__isnull=True)
            .order_by("id")[:size]
        )
        if not batch:
            return Batch(sent=0, more=False)
        wait = mail_bucket().try_take(len(batch))
        if wait:
            return Batch(sent=0, more=True, wait_s=wait)
        now = timezone.now()
        messages = [join_link_message(webinar, r, now=now) for r in batch]
        with get_connection() as mail:
            mail.send_messages(messages)
        Registrant.objects.filter(pk__in=[r.pk for r in batch]).update(link_sent_at=now)
    more = Registrant.objects.filter(webinar=webinar, link_sent_at__isnull=True).exists()
    return Batch(sent=len(batch), more=more)


def claim_next_run(webinar_id: int) -> bool:
    """True when the caller should queue the next run: no run is queued already."""
    webinar = Webinar.objects.only("code").get(pk=webinar_id)
    return bool(redis_client().set(mailer_flag_key(webinar), 1, nx=True, ex=MAILER_FLAG_TTL_S))
