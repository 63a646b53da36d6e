"""Helpers of the registration tests: a confirmed webinar with registration open (the
booking_confirmed receivers are not run: registration needs no relay cluster), and a
fresh, fast global mail bucket."""

from django.conf import settings as django_settings

from events.models import Registrant
from events.services import join_links, registration
from tests.conftest import hold
from webinars import services
from webinars.models import Package, User, Webinar

EUROPE_AND_US = {"us-east": 5000, "eu-west": 2500, "eu-central": 2500}


def confirmed_webinar(user: User, package: Package, **overrides) -> Webinar:
    overrides.setdefault("custom_split", EUROPE_AND_US)
    webinar = hold(user, package, **overrides)
    services.confirm_booking(webinar, actor=None)
    return Webinar.objects.get(pk=webinar.pk)


def open_webinar(user: User, package: Package, **overrides) -> Webinar:
    webinar = confirmed_webinar(user, package, **overrides)
    registration.open_registration(webinar, actor=user)
    return webinar


def fast_mail(settings, *, per_minute: int = 600_000, batch: int = 50) -> None:
    settings.ATTENDEE_EMAILS_PER_MINUTE = per_minute
    settings.ATTENDEE_EMAIL_BATCH = batch
    join_links.mail_bucket().reset()


def register(webinar: Webinar, email: str, **fields) -> Registrant:
    params = {"name": "Dana Scully", "country": "DE", "consent": True} | fields
    return registration.register_attendee(webinar, email=email, **params)


def resend_interval() -> int:
    return int(django_settings.ATTENDEE_RESEND_INTERVAL_S)
