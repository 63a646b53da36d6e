"""Registration: the organiser opens and closes a confirmed webinar's public registration
page (each change audited); people register themselves and ask for their link again; the
organiser deletes a registrant, which also revokes the personal join link in Redis.

Registrations themselves are not audited one by one: a webinar gathers up to a million, and
the audit log outlives a deleted registrant, so it must not hold their email. Imports are
audited once per file (`events.services.invitees`), deletions once each, by registrant id.

Nothing here reveals whether an email is registered: registering again and asking for the
link again answer exactly like a first registration, and both only (re)send the link to
that address, at most once per ATTENDEE_RESEND_INTERVAL_S.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone

from events.errors import AttendeeError
from events.models import Registrant, Registration
from events.ratelimit import redis_client
from events.selectors.attendees import region_chooser
from events.tokens import hash_tag, revoked_key
from webinars import audit
from webinars.countries import country_codes, normalise_country
from webinars.jobs import enqueue_on_commit
from webinars.models import User, Webinar

W = Webinar.Status
# Registration is offered from confirmation until the webinar ends.
OPEN_STATUSES = (W.CONFIRMED, W.LIVE)
NAME_MAX = Registrant._meta.get_field("name").max_length
EMAIL_MAX = Registrant._meta.get_field("email").max_length
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# The everyday shape of an address, a strict subset of what Django's validator accepts
# (dot-atom local part, LDH labels): an import of a million rows checks most addresses
# with this one regex and asks the full validator only about the rest.
PLAIN_EMAIL = re.compile(
    r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
MAILER_TASK = "events.tasks.send_join_links_task"
# A revoked id is kept a week past the end: long enough for any replay of a link.
REVOKED_KEPT = timedelta(days=7)
# If a queued mailer run is lost, the next registration may queue another after this.
MAILER_FLAG_TTL_S = 600


# --- the rules of one registrant's fields (the form and the import share them) -------------


def clean_email(value: str) -> str:
    email = (value or "").strip().lower()
    if not email or len(email) > EMAIL_MAX:
        raise AttendeeError("invalid_email")
    if PLAIN_EMAIL.fullmatch(email):
        return email
    try:
        validate_email(email)
    except ValidationError as exc:
        raise AttendeeError("invalid_email") from exc
    return email


def clean_name(value: str) -> str:
    name = " ".join((value or "").split())
    if not name or len(name) > NAME_MAX or CONTROL_CHARACTERS.search(name):
        raise AttendeeError("invalid_name", max=NAME_MAX)
    return name


def clean_country(value: str, *, required: bool = True) -> str:
    """An ISO code (aliases such as UK resolved); empty only when not `required`."""
    country = normalise_country(value)
    if not country and not required:
        return ""
    if country not in country_codes():
        raise AttendeeError("invalid_country", country=(value or "").strip()[:20])
    return country


# --- the organiser opens and closes registration --------------------------------------------


def _locked_webinar(webinar: Webinar) -> Webinar:
    """The webinar, its status held still (a cancellation waits). NO KEY UPDATE, because a
    registration's foreign-key check takes KEY SHARE on this row at its commit while
    closing waits for the registrations: a full FOR UPDATE here would deadlock with them."""
    return Webinar.objects.select_for_update(no_key=True).get(pk=webinar.pk)


@transaction.atomic
def open_registration(webinar: Webinar, *, actor: User | None) -> Registration:
    """Open the public registration page. Opening an open page changes nothing."""
    webinar = _locked_webinar(webinar)
    if webinar.status not in OPEN_STATUSES:
        raise AttendeeError("not_confirmed", status=webinar.get_status_display().lower())
    now = timezone.now()
    registration, created = Registration.objects.select_for_update().get_or_create(
        webinar=webinar, defaults={"state": Registration.State.OPEN, "opened_at": now}
    )
    if not created:
        if registration.is_open:
            return registration
        registration.state, registration.opened_at = Registration.State.OPEN, now
        registration.save(update_fields=["state", "opened_at", "updated_at"])
    audit.record("registration.opened", registration, actor=actor, webinar=webinar)
    return registration


@transaction.atomic
def close_registration(webinar: Webinar, *, actor: User | None) -> Registration | None:
    """Close the public page (registrants keep their links). Closing a closed or never
    opened page changes nothing."""
    webinar = _locked_webinar(webinar)
    registration = Registration.objects.select_for_update().filter(webinar=webinar).first()
    if registration is None or not registration.is_open:
        return registration
    registration.state, registration.closed_at = Registration.State.CLOSED, timezone.now()
    registration.save(update_fields=["state", "closed_at", "updated_at"])
    audit.record("registration.closed", registration, actor=actor, webinar=webinar)
    return registration


def accepts_registrations(webinar: Webinar, registration: Registration | None) -> bool:
    return registration is not None and registration.is_open and webinar.status in OPEN_STATUSES


# --- people register and ask for their link again ------------------------------------------


def register_attendee(
    webinar: Webinar, *, name: str, email: str, country: str, consent: bool
) -> Registrant:
    """Register someone on the public page. An address already registered gets its link
    again (throttled) and keeps its row: the caller answers the same either way."""
    name, email, country = clean_name(name), clean_email(email), clean_country(country)
    if not consent:
        raise AttendeeError("consent_required")
    with transaction.atomic():
        # A share lock: registrations run side by side, closing waits for them (and they
        # for it), so nobody registers on a page that was closed before they committed.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT state FROM events_registration WHERE webinar_id = %s FOR SHARE",
                [webinar.pk],
            )
            row = cursor.fetchone()
        webinar.refresh_from_db(fields=["status"])
        if row is None or row[0] != Registration.State.OPEN or webinar.status not in OPEN_STATUSES:
            raise AttendeeError("registration_closed")
        registrant, created = Registrant.objects.get_or_create(
            webinar=webinar,
            email=email,
            defaults={
                "name": name,
                "country": country,
                "region": region_chooser(webinar)(country),
                "consent_at": timezone.now(),
                "source": Registrant.Source.FORM,
            },
        )
        if created:
            _mark_resent(webinar, email)
            wake_mailer(webinar)
        elif _mark_resent(webinar, email):
            _queue_link_again(registrant)
    return registrant


def resend_link(webinar: Webinar, *, email: str) -> None:
    """Send a registrant their link again. Answers nothing: an unknown address, a
    throttled one and a cancelled webinar look the same to the caller."""
    try:
        email = clean_email(email)
    except AttendeeError:
        return
    if webinar.status not in OPEN_STATUSES:
        return
    registrant = Registrant.objects.filter(webinar=webinar, email=email).first()
    if registrant is None or not _mark_resent(webinar, email):
        return
    with transaction.atomic():
        _queue_link_again(registrant)


def _mark_resent(webinar: Webinar, email: str) -> bool:
    """True at most once per ATTENDEE_RESEND_INTERVAL_S per address and webinar. The key
    holds a digest, not the address, and lives on the webinar's Redis shard."""
    digest = hashlib.sha256(email.encode()).hexdigest()[:24]
    key = f"{hash_tag(webinar.code)}:resend:{digest}"
    interval = max(int(settings.ATTENDEE_RESEND_INTERVAL_S), 1)
    return bool(redis_client().set(key, 1, nx=True, ex=interval))


def _queue_link_again(registrant: Registrant) -> None:
    Registrant.objects.filter(pk=registrant.pk).update(link_sent_at=None)
    wake_mailer(registrant.webinar)


def mailer_flag_key(webinar: Webinar) -> str:
    return f"{hash_tag(webinar.code)}:mailer-queued"


def wake_mailer(webinar: Webinar) -> None:
    """After commit, queue the link mailer for the webinar unless a run is already queued
    and not yet started (a run clears the flag when it starts, before it reads what is
    pending, so nothing committed before a skipped wake-up is missed). A flash crowd of
    registrations thus queues a handful of runs, not one per registrant."""
    webinar_id, key = webinar.pk, mailer_flag_key(webinar)

    def wake() -> None:
        if redis_client().set(key, 1, nx=True, ex=MAILER_FLAG_TTL_S):
            enqueue_on_commit(MAILER_TASK, webinar_id=webinar_id)

    transaction.on_commit(wake)


@transaction.atomic
def send_pending_links(webinar: Webinar, *, actor: User | None) -> int:
    """The organiser's "Send pending links": queue the mailer for every registrant whose
    link has not gone out (after an import made with links held back)."""
    pending = Registrant.objects.filter(webinar=webinar, link_sent_at__isnull=True).count()
    if pending and webinar.status in OPEN_STATUSES:
        audit.record("registrants.links_queued", webinar, actor=actor, data={"pending": pending})
        wake_mailer(webinar)
        return pending
    return 0


# --- the organiser deletes a registrant -----------------------------------------------------


@transaction.atomic
def delete_registrant(registrant: Registrant, *, actor: User | None) -> None:
    """Delete the row and revoke the personal link: the id joins the webinar's revoked set
    in Redis, which admission checks. The set is written inside the transaction, so a Redis
    failure keeps the row (the organiser sees the error and can retry)."""
    registrant = (  # the registrant's row only: the webinar's is every registration's
        Registrant.objects.select_for_update(of=("self",))
        .select_related("webinar")
        .get(pk=registrant.pk)
    )
    webinar = registrant.webinar
    audit.record(
        "registrant.deleted",
        registrant,
        actor=actor,
        webinar=webinar,
        data={"registrant": registrant.pk, "source": registrant.source},
    )
    key = revoked_key(webinar.code)
    pipe = redis_client().pipeline()
    pipe.sadd(key, registrant.pk)
    pipe.expireat(key, webinar.end_at + REVOKED_KEPT)
    pipe.execute()
    registrant.delete()
