"""Registration under concurrency, on PostgreSQL with a connection per thread: one address
registered by many requests at once is one row, and nobody registers after the page
closed."""

import pytest
from django.core import mail

from events.errors import AttendeeError
from events.models import Registrant
from events.services import registration
from tests.conftest import race
from tests.events.registration_helpers import fast_mail, open_webinar, register

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_one_address_registered_twelve_times_at_once_is_one_row_and_one_email(
    organiser, package_10k, settings
):
    fast_mail(settings)
    webinar = open_webinar(organiser, package_10k)
    mail.outbox.clear()  # the confirmation's own emails (the team's invitations)

    def attendee(i: int) -> str:
        return str(register(webinar, "dana@example.org", name=f"Dana {i}").pk)

    outcomes = race(12, attendee)
    assert len(set(outcomes)) == 1 and not outcomes[0].startswith("error"), outcomes
    assert Registrant.objects.filter(webinar=webinar).count() == 1
    assert [m.to for m in mail.outbox] == [["dana@example.org"]]


def test_registrations_racing_the_close_either_commit_before_it_or_are_refused(
    organiser, package_10k, settings
):
    fast_mail(settings)
    webinar = open_webinar(organiser, package_10k)

    def contender(i: int) -> str:
        if i == 0:
            registration.close_registration(webinar, actor=organiser)
            return "closed"
        try:
            register(webinar, f"guest{i}@example.org")
        except AttendeeError as error:
            return error.code
        return "registered"

    outcomes = race(16, contender)
    assert outcomes.count("closed") == 1
    assert set(outcomes) <= {"closed", "registered", "registration_closed"}, outcomes
    registered = Registrant.objects.filter(webinar=webinar).count()
    assert registered == outcomes.count("registered")
    # Once closed, nobody gets in.
    with pytest.raises(AttendeeError):
        register(webinar, "late@example.org")
