"""The booking form starts from the organisation's country, its time-zone picker can be
searched and is still checked by the server, and "My webinars" puts upcoming events first."""

import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import hold, local_start, make_organiser
from webinars.models import Webinar


def _field_value(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
    return re.search(r'value="([^"]*)"', tag).group(1)


def _selected(page: str, name: str) -> str:
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S).group(0)
    return re.search(r'<option value="([^"]+)"[^>]*selected', select).group(1)


@pytest.mark.parametrize(
    ("country", "zone", "preset"),
    [
        ("FR", "Europe/Paris", "europe"),
        ("DE", "Europe/Berlin", "europe"),
        ("CY", "Asia/Nicosia", "europe"),  # an EU member state on the Asian plate
        ("GB", "Europe/London", "europe"),
        ("US", "America/New_York", "north-america"),
        ("CA", "America/Toronto", "north-america"),
        ("BR", "America/Sao_Paulo", "south-america"),
        ("AR", "America/Argentina/Buenos_Aires", "south-america"),
        ("IN", "Asia/Kolkata", "asia-pacific"),
        ("SG", "Asia/Singapore", "asia-pacific"),
        ("JP", "Asia/Tokyo", "asia-pacific"),
        ("AU", "Australia/Sydney", "asia-pacific"),
    ],
)
def test_booking_form_starts_from_the_organisations_country(
    client, catalogue, country, zone, preset
):
    client.force_login(make_organiser(f"{country.lower()}@org.example", "Org Ltd", country))
    page = html.unescape(client.get(reverse("webinars:book")).content.decode())
    assert _field_value(page, "timezone") == zone
    assert _selected(page, "audience") == preset


def test_a_package_chosen_on_the_pricing_page_is_kept(client, catalogue):
    client.force_login(make_organiser("fr@org.example", "Org Ltd", "FR"))
    page = client.get(reverse("webinars:book") + "?package=1m").content.decode()
    assert _selected(page, "package") == "1m"
    assert _field_value(page, "timezone") == "Europe/Paris"


def test_time_zone_picker_is_searchable_without_a_cdn(client, organiser, catalogue):
    client.force_login(organiser)
    page = client.get(reverse("webinars:book")).content.decode()
    tag = re.search(r'<input[^>]*name="timezone"[^>]*>', page).group(0)
    listing = re.search(r'list="([^"]+)"', tag).group(1)
    datalist = re.search(rf'<datalist id="{listing}">(.*?)</datalist>', page, re.S).group(1)
    assert '<option value="Europe/Paris">' in datalist
    assert '<option value="America/Argentina/Buenos_Aires">' in datalist
    assert "cdn" not in page.lower()


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "Europe/Paris<script>"])
def test_a_time_zone_not_in_the_list_is_refused_by_the_server(client, organiser, catalogue, zone):
    client.force_login(organiser)
    data = {
        "title": "Town hall",
        "package": "10k",
        "start": local_start(days=20).strftime("%Y-%m-%dT%H:%M"),
        "timezone": zone,
        "duration_minutes": "90",
        "audience": "north-america",
    }
    response = client.post(reverse("webinars:book"), data)
    assert response.status_code == 400
    assert "Europe/Paris<script>" not in response.content.decode()
    assert not Webinar.objects.exists()
    quote = client.post(reverse("webinars:quote"), data)
    assert quote.status_code == 400
    assert "Time zone: Choose a time zone from the list" in quote.content.decode()


def test_my_webinars_lists_upcoming_soonest_first_then_past_most_recent_first(
    client, organiser, package_10k
):
    later = hold(organiser, package_10k, title="Later", start_local=local_start(days=40))
    sooner = hold(organiser, package_10k, title="Sooner", start_local=local_start(days=20))
    recent = hold(organiser, package_10k, title="Recent", start_local=local_start(days=25))
    old = hold(organiser, package_10k, title="Old", start_local=local_start(days=30))
    dropped = hold(organiser, package_10k, title="Dropped", start_local=local_start(days=35))
    now = timezone.now()
    Webinar.objects.filter(pk=recent.pk).update(
        start_at=now - timedelta(days=2), status="completed"
    )
    Webinar.objects.filter(pk=old.pk).update(start_at=now - timedelta(days=60), status="completed")
    Webinar.objects.filter(pk=dropped.pk).update(status="cancelled")
    client.force_login(organiser)
    page = client.get(reverse("webinars:dashboard")).content.decode()

    upcoming = page.split('id="upcoming"')[1].split('id="past"')[0]
    past = page.split('id="past"')[1]
    assert "Upcoming" in upcoming and "Past" in past

    def titles(part: str) -> list[str]:
        return re.findall(r"<td>(Later|Sooner|Recent|Old|Dropped)</td>", part)

    assert titles(upcoming) == [sooner.title, later.title]
    # A cancelled booking will not happen: it is listed with the past ones.
    assert titles(past) == ["Dropped", "Recent", "Old"]


def test_odd_values_in_the_booking_link_are_shown_not_trusted(client, organiser, catalogue):
    client.force_login(organiser)
    response = client.get(
        reverse("webinars:book"),
        {
            "package": "nope\x00",
            "start": "9999-99-99T99:99",
            "timezone": '"><script>alert(1)</script>',
            "duration_minutes": "x",
            "audience": "mars",
            "share_us-east": "abc",
            "unknown": "ignored",
        },
    )
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()
    quote = client.post(
        reverse("webinars:quote"),
        {"package": "10k", "start": "9999-99-99T99:99", "timezone": "UTC", "audience": "mars"},
    )
    assert quote.status_code == 400
    assert re.search(r'<button[^>]*name="hold"', quote.content.decode())
    assert not Webinar.objects.exists()
