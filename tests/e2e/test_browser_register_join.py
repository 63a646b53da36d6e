"""An attendee's whole journey in a real browser (Debian's Chromium driven by Playwright):
register on the webinar's public page, receive the personal link by email, open it and be
let in, routed to an edge of the region the registration gave. Waits are on text with
timeouts, never sleeps."""

import re
import time

import pytest
from django.core import mail

from events.models import Registrant
from tests.e2e.conftest import CHROMIUM
from tests.events.admission_helpers import publish
from tests.events.registration_helpers import fast_mail, open_webinar

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]

EDGES = [
    (f"W/{region}/edge/0", region, f"edge-0.{region}.example:8443")
    for region in ("us-east", "eu-west", "eu-central")
]


def test_an_attendee_registers_gets_the_link_by_email_and_is_let_in(
    page, live_server, organiser, package_10k, settings
):
    fast_mail(settings)
    webinar = open_webinar(organiser, package_10k)
    now = time.time()
    # The doors are open: the admission config as beat publishes it once the cluster serves.
    publish(webinar.code, capacity=10, opens=now - 60, ends=now + 3600, edges=EDGES)
    mail.outbox.clear()  # the confirmation's own emails (the team's invitations)

    page.goto(f"{live_server.url}/r/{webinar.code}/")
    page.fill("#id_name", "Dana Scully")
    page.fill("#id_email", "dana@example.org")
    page.select_option("#id_country", "DE")
    page.check("#id_consent")
    page.click("button[type=submit]")
    page.wait_for_selector("text=dana@example.org")

    (message,) = [m for m in mail.outbox if m.to == ["dana@example.org"]]
    token = re.search(r"/j/([^/\s\"<]+)/", message.body).group(1)
    region = Registrant.objects.get(webinar=webinar, email="dana@example.org").region
    assert region in ("eu-west", "eu-central")  # a German address: Europe's edges

    page.goto(f"{live_server.url}/j/{token}/")
    page.wait_for_selector("#join-state.ok")
    assert page.inner_text("#join-state") == "You're in"
    assert f"edge-0.{region}.example:8443" in page.inner_text("#join-detail")
