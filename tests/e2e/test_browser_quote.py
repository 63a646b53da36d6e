"""The live quote in a real browser: a full time disables "Continue to payment" with the
reason, and choosing an alternative start fills the form in place and quotes again."""

from tests.conftest import hold, local_start
from tests.e2e.test_browser import pytestmark  # noqa: F401 - the same marks
from webinars.models import Region


def test_choosing_an_alternative_start_fills_the_form_and_enables_continue(
    page,
    live_server,
    organiser,
    package_10k,
):
    Region.objects.filter(code="us-east").update(fleet_size=13)
    hold(organiser, package_10k, start_local=local_start(days=20, hour=15))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", organiser.email)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/webinars/new/")
    # A US organisation starts in New York's time zone with a North American audience.
    assert page.input_value("#id_timezone") == "America/New_York"
    assert page.input_value("#id_audience") == "north-america"

    page.fill("#id_title", "Town hall")
    page.select_option("#id_audience", "custom")
    page.click("#custom-split summary")
    page.fill("#id_share_us-east", "100")
    page.fill("#id_start", local_start(days=20, hour=15).strftime("%Y-%m-%dT%H:%M"))
    page.dispatch_event("#id_start", "change")
    page.wait_for_selector("#availability.bad")
    assert page.is_disabled("button[name=hold]")
    assert "fully booked in us-east" in page.inner_text("#hold-reason")

    later = page.locator("#alternatives li", has_text="later").first.locator("a")
    chosen = later.get_attribute("data-start")
    later.click()
    page.wait_for_selector("#availability.ok")
    assert page.input_value("#id_start") == chosen
    assert page.input_value("#id_title") == "Town hall"  # filled in place, nothing lost
    assert page.is_enabled("button[name=hold]")
