"""An attendee joins in a real browser (Debian's Chromium driven by Playwright): the page's
own script takes the seat and shows "You're in" with the edge, a second device with the
same link takes the seat over and the first is told, and a viewer in the waiting room of a
full webinar is let in by the page itself when a seat frees. Waits are on text with
timeouts, never sleeps."""

import time

import pytest

from events.services import admission
from events.tokens import JoinClaim, join_token
from tests.e2e.conftest import CHROMIUM
from tests.events.admission_helpers import publish
from tests.events.conftest import new_code

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]


@pytest.fixture
def open_webinar(settings, db):
    settings.ATTENDEE_HEARTBEAT_S = 1  # the player's heartbeat, so a takeover shows at once
    code = new_code()
    now = time.time()
    publish(code, capacity=1, opens=now - 60, ends=now + 3600,
            edges=[("W/us-east/edge/0", "us-east", "edge-0.us-east.example:8443")])  # fmt: skip
    return code


def test_an_attendee_joins_and_a_second_device_takes_the_seat_over(
    browser, live_server, open_webinar
):
    url = f"{live_server.url}/j/{join_token(open_webinar, 1, 'us-east')}/"
    phone = browser.new_page()
    phone.goto(url)
    phone.wait_for_selector("#join-state.ok")
    assert phone.inner_text("#join-state") == "You're in"
    assert "edge-0.us-east.example:8443" in phone.inner_text("#join-detail")

    phone.reload()  # a refresh keeps the seat (same session)
    phone.wait_for_selector("#join-state.ok")

    laptop = browser.browser.new_context().new_page()  # another device: its own storage
    laptop.goto(url)
    laptop.wait_for_selector("#join-state.ok")
    phone.wait_for_selector("text=now playing on another device")
    assert admission.admission_redis().zcard(admission.key(open_webinar, "seen")) == 1


def test_the_waiting_room_lets_the_viewer_in_when_a_seat_frees(browser, live_server, open_webinar):
    first = admission.take_seat(JoinClaim(open_webinar, 1, "us-east"))
    assert first.status == "admitted"
    page = browser.new_page()
    page.goto(f"{live_server.url}/j/{join_token(open_webinar, 2, 'us-east')}/")
    page.wait_for_selector("text=Waiting room")
    assert "full" in page.inner_text("#join-detail")
    # Registrant 1 left without a word: beat's sweep releases the seat after 90 s.
    admission.sweep_seats(open_webinar, now=time.time() + 91)
    page.wait_for_selector("#join-state.ok", timeout=90_000)
    assert page.inner_text("#join-state") == "You're in"
