"""An organiser books and pays in a real browser (Debian's Chromium driven by Playwright):
live quote over htmx, hold with countdown, the emulator's hosted Checkout page, and the
pages that wait and update by themselves: the return page turning "Confirmed" once the
card payment's or the bank transfer's webhook is processed, and the Payment panel showing
a refund in progress and then its credit note. Waits are on text with timeouts, never
sleeps; a marker on `window` proves the page was not reloaded."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from billing.models import Payment, Refund
from config.celery import app as celery_app
from tests.e2e.conftest import CHROMIUM
from webinars.models import Webinar

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]
PASSWORD = "correct-horse-battery"


def shown(moment, zone: str) -> str:
    """A time as people must see it: local time in the webinar's zone and its abbreviation."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"


def mark_page(page) -> None:
    page.evaluate("window.__notReloaded = true")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded"


def log_in(page, base: str, organiser) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", organiser.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def book(page, base: str, *, title: str, package: str, audience: str, zone: str = "") -> None:
    page.goto(f"{base}/webinars/new/?package={package}")
    # 40 days ahead: a full refund under the default cancellation policy.
    start = (timezone.now() + timedelta(days=40)).strftime("%Y-%m-%dT17:00")
    page.fill("#id_title", title)
    page.select_option("#id_package", package)
    page.select_option("#id_audience", audience)
    if zone:
        page.fill("#id_timezone", zone)
    page.fill("#id_start", start)
    page.dispatch_event("#id_start", "change")
    page.wait_for_selector("#availability")
    assert "Available" in page.inner_text("#availability")


def test_organiser_books_pays_by_card_then_cancels_in_a_browser(
    page, live_server, live_stripe, start_worker, organiser, catalogue
):
    from playwright.sync_api import expect

    base = live_server.url
    log_in(page, base, organiser)
    book(page, base, title="Browser launch", package="1m", audience="global")
    assert "1,074" in page.inner_text("#quote")

    page.click("button[name=hold]")
    page.wait_for_selector("#countdown")
    assert ":" in page.inner_text("#countdown")
    webinar = Webinar.objects.get(title="Browser launch")
    assert webinar.status == "held"

    page.click("#pay")
    page.wait_for_url(f"{live_stripe.url}/checkout/pay/**")
    assert "$100,000.00" in page.content()
    # The organisation's address is on file: the page does not ask for it again.
    assert "Billing address on file: 1 Main Street" in page.content()
    assert page.locator("input[name=address_line1]").count() == 0
    page.click("text=Pay by card ·")
    page.wait_for_url(f"{base}/billing/webinars/{webinar.code}/return/**")
    page.wait_for_selector("text=Confirmed!", timeout=30_000)
    webinar.refresh_from_db()
    assert webinar.status == "confirmed"

    # Cancel with the worker busy elsewhere: the refund waits in the queue, as it may.
    page.click("text=Back to the booking")
    page.click("text=Cancel booking…")
    celery_app.conf.task_always_eager = False
    page.click("text=Cancel the booking")
    panel = page.locator("#billing-panel")
    expect(panel).to_contain_text("Refund of $100,000.00 USD in progress")
    assert "CN-" not in panel.inner_text()
    mark_page(page)

    start_worker()
    expect(panel).to_contain_text("CN-", timeout=90_000)
    expect(panel).to_contain_text("Refunded $100,000.00 USD")
    expect(panel).not_to_contain_text("in progress")
    assert_not_reloaded(page)
    refund = Refund.objects.get(payment__webinar=webinar)
    assert refund.status == "succeeded"


def test_bank_transfer_return_page_turns_confirmed_by_itself(
    browser, page, live_server, live_stripe, organiser, catalogue
):
    from playwright.sync_api import expect

    base = live_server.url
    zone = "Europe/Paris"
    log_in(page, base, organiser)
    book(page, base, title="Transfer launch", package="10k", audience="europe", zone=zone)
    page.click("button[name=hold]")
    page.wait_for_selector("#countdown")
    webinar = Webinar.objects.get(title="Transfer launch")

    page.click("#pay")
    page.wait_for_url(f"{live_stripe.url}/checkout/pay/**")
    payment = Payment.objects.get(webinar=webinar)
    # The hosted page shows its expiry in the webinar's zone too.
    expect(page.locator("#expires")).to_contain_text(shown(payment.expires_at, zone))
    # The organisation's address is on file: the page does not ask for it again.
    assert page.locator("input[name=address_line1]").count() == 0
    page.click("text=Pay by bank transfer")
    expect(page.locator("body")).to_contain_text("Bank transfer instructions")
    page.click("text=Return to merchant")
    page.wait_for_url(f"{base}/billing/webinars/{webinar.code}/return/**")

    state = page.locator("#payment-state")
    expect(state).to_contain_text("Waiting for your bank transfer", timeout=30_000)
    webinar.refresh_from_db()
    assert webinar.status == "awaiting_funds"
    expect(page.locator("#funds-deadline")).to_have_text(shown(webinar.funds_deadline, zone))
    mark_page(page)

    # The buyer's bank pays, in another tab: the return page must notice by itself.
    bank = browser.new_page()
    bank.goto(payment.checkout_url)
    bank.click("text=Funds received")
    expect(state).to_contain_text("Confirmed!", timeout=60_000)
    assert_not_reloaded(page)
    webinar.refresh_from_db()
    assert webinar.status == "confirmed"
