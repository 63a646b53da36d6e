"""What an organiser sees before paying: the cancellation policy (pricing page, live quote,
held booking) and the VAT treatment and total for their organisation in the live quote,
alternative start times on both sides of a full one, and why they cannot continue."""

import html
import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from django.urls import reverse

from tests.conftest import hold, local_start
from webinars import services
from webinars.models import Region, User

POLICY = [{"min_days": 21, "percent": 80}, {"min_days": 5, "percent": 25}]
POLICY_LINES = (
    "80% refund when cancelled 21+ days before the start",
    "25% refund when cancelled 5 to 21 days before the start",
    "no refund less than 5 days before the start, or once provisioning of your relay "
    "cluster has begun",
)


def _organiser(email: str, country: str, vat_id: str = "") -> User:
    user = services.register_organiser(email=email, password="correct-horse-battery")
    services.create_organisation(
        user,
        actor=user,
        legal_name=f"Org {country}",
        address_line1="1 Rue de la Paix",
        city="Paris",
        postal_code="75002",
        country=country,
        vat_id=vat_id,
        billing_email=f"billing@{country.lower()}.example",
    )
    return User.objects.get(pk=user.pk)


def _form(**extra: str) -> dict[str, str]:
    return {
        "title": "Town hall",
        "package": "10k",
        "start": local_start(days=20, hour=15).strftime("%Y-%m-%dT%H:%M"),
        "timezone": "America/New_York",
        "duration_minutes": "90",
        "audience": "north-america",
    } | extra


def _quote(client, *, status: int = 200, **extra: str) -> str:
    response = client.post(reverse("webinars:quote"), _form(**extra))
    assert response.status_code == status
    return html.unescape(response.content.decode())


def _text(body: str) -> str:
    """The page as a person reads it: tags dropped, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def _has_policy(text: str) -> bool:
    return all(line.lower() in text.lower() for line in POLICY_LINES)


# --- item 11: the cancellation policy before paying ---------------------------------------


def test_pricing_page_states_the_configured_cancellation_policy(client, catalogue, settings):
    settings.CANCELLATION_POLICY = POLICY
    text = _text(html.unescape(client.get(reverse("pricing")).content.decode()))
    assert _has_policy(text)


def test_live_quote_states_the_cancellation_policy(client, organiser, catalogue, settings):
    settings.CANCELLATION_POLICY = POLICY
    client.force_login(organiser)
    text = _text(_quote(client))
    assert _has_policy(text)


def test_held_booking_payment_panel_states_the_cancellation_policy(
    client, organiser, package_10k, settings
):
    settings.CANCELLATION_POLICY = POLICY
    webinar = hold(organiser, package_10k)
    client.force_login(organiser)
    body = html.unescape(
        client.get(reverse("webinars:detail", args=[webinar.code])).content.decode()
    )
    panel = _text(body.split('id="billing-panel"')[1].split('id="pay"')[0])
    assert _has_policy(panel)


# --- item 14: VAT for the organiser's organisation ----------------------------------------


def test_quote_for_a_french_business_with_a_vat_id_is_reverse_charged(client, catalogue):
    client.force_login(_organiser("fr@example.com", "FR", vat_id="FR40303265045"))
    text = _text(_quote(client))
    assert "Net $9,000.00 USD" in text
    assert "VAT Reverse charge" in text
    assert "Total $9,000.00 USD" in text
    assert "excl. VAT" not in text


def test_quote_for_an_irish_organisation_adds_23_percent_vat(client, catalogue):
    client.force_login(_organiser("ie@example.com", "IE"))
    text = _text(_quote(client))
    assert "Net $9,000.00 USD" in text
    assert "VAT 23% $2,070.00 USD" in text
    assert "Total $11,070.00 USD" in text


def test_quote_for_an_organisation_outside_the_eu_shows_no_vat(client, organiser, catalogue):
    client.force_login(organiser)  # a US organisation
    text = _text(_quote(client))
    assert "VAT No VAT (export)" in text
    assert "Total $9,000.00 USD" in text


def test_quote_without_an_organisation_is_net_excl_vat(client, catalogue):
    client.force_login(User.objects.create_user(email="lone@x.example", password="pw-pw-pw-pw"))
    text = _text(_quote(client))
    assert "$9,000.00 USD excl. VAT" in text
    assert "Total $" not in text and "Reverse charge" not in text


def test_quote_needs_a_login(client, catalogue):
    response = client.post(reverse("webinars:quote"), _form())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- item 14: alternatives on both sides, and why one cannot continue ----------------------


def _starts_of_alternatives(body: str) -> list[str]:
    section = body.split('id="alternatives"')[1].split("</ul>")[0]
    hrefs = re.findall(r'href="([^"]+)"', section)
    starts = [parse_qs(urlsplit(h).query)["start"][0] for h in hrefs]
    assert starts == re.findall(r'data-start="([^"]+)"', section)
    return starts


def test_full_time_offers_alternatives_on_both_sides_as_links_that_fill_the_form(
    client, organiser, package_10k
):
    # One us-east fleet of 13 nodes: the 10k webinar at 15:00 occupies 14:00-17:00 and a
    # second one at 18:00 occupies 17:00-20:00, so the nearest times that work are 12:00
    # and before, and 21:00 and after: all three nearest are earlier ones.
    Region.objects.filter(code="us-east").update(fleet_size=13)
    hold(organiser, package_10k, start_local=local_start(days=20, hour=15))
    hold(organiser, package_10k, start_local=local_start(days=20, hour=18))
    client.force_login(organiser)
    body = _quote(client, audience="custom", **{"share_us-east": "100"})
    assert "Not available then" in body
    requested = local_start(days=20, hour=15)
    starts = [datetime.fromisoformat(s) for s in _starts_of_alternatives(body)]
    earlier = [s for s in starts if s < requested]
    later = [s for s in starts if s > requested]
    assert earlier and later
    assert max(earlier) == requested.replace(hour=12)
    assert min(later) == requested.replace(hour=21)
    assert starts == sorted(starts)

    # Following a link (without JavaScript) opens the form filled with that time.
    link = re.findall(r'href="([^"]+)"', body.split('id="alternatives"')[1])[0]
    page = html.unescape(client.get(link).content.decode())
    assert f'value="{starts[0]:%Y-%m-%dT%H:%M}"' in page
    assert re.search(r'name="share_us-east"[^>]*value="100"', page)


def _hold_action(body: str) -> str:
    match = re.search(r'<div id="hold-action" hx-swap-oob="true">(.*?)</div>', body, re.S)
    assert match, "the quote updates the hold button out of band"
    return match.group(1)


def test_continue_is_disabled_with_the_reason_when_the_time_is_full(client, organiser, package_10k):
    Region.objects.filter(code="us-east").update(fleet_size=13)
    hold(organiser, package_10k, start_local=local_start(days=20, hour=15))
    client.force_login(organiser)
    action = _hold_action(_quote(client, audience="custom", **{"share_us-east": "100"}))
    assert re.search(r"<button[^>]*disabled", action)
    assert "fully booked" in _text(action) and "us-east" in action


def test_continue_is_disabled_with_the_reason_when_the_rules_refuse_the_time(
    client, organiser, catalogue
):
    client.force_login(organiser)
    too_soon = local_start(days=1, hour=15).strftime("%Y-%m-%dT%H:%M")
    action = _hold_action(_quote(client, status=400, package="1m", start=too_soon))
    assert re.search(r"<button[^>]*disabled", action)
    assert "14 days" in _text(action)


def test_continue_is_enabled_when_the_time_is_available(client, organiser, catalogue):
    client.force_login(organiser)
    action = _hold_action(_quote(client))
    assert "Continue to payment" in action
    assert not re.search(r"<button[^>]*disabled", action)
