"""An organiser books and pays in a real browser (Debian's Chromium driven by Playwright):
live quote over htmx, hold with countdown, the emulator's hosted Checkout page, and the
return page that turns "confirmed" by itself once the webhook is processed."""

import shutil
from datetime import timedelta

import pytest
from django.utils import timezone

from webinars.models import Webinar

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]


@pytest.fixture
def page(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the ORM calls in the test
    # are still plain synchronous code (Django's documented escape hatch for this case).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        page.set_default_timeout(20_000)
        yield page
        browser.close()


def test_organiser_books_and_pays_by_card_in_a_browser(
    page, live_server, live_stripe, organiser, catalogue
):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", organiser.email)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/webinars/new/?package=1m")
    start = (timezone.now() + timedelta(days=30)).strftime("%Y-%m-%dT17:00")
    page.fill("#id_title", "Browser launch")
    page.select_option("#id_package", "1m")
    page.select_option("#id_audience", "global")
    page.fill("#id_start", start)
    page.dispatch_event("#id_start", "change")
    page.wait_for_selector("#availability")
    assert "Available" in page.inner_text("#availability")
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
    page.wait_for_url(f"{live_server.url}/billing/webinars/{webinar.code}/return/**")
    page.wait_for_selector("text=Confirmed!", timeout=30_000)
    webinar.refresh_from_db()
    assert webinar.status == "confirmed"
