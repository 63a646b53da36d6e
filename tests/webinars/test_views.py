import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.conftest import hold, local_start
from webinars.models import AuditEntry, Organisation, Region, User, Webinar


def _form(package="10k", **extra):
    start = local_start(days=20, hour=15)
    data = {
        "title": "Town hall",
        "package": package,
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "timezone": "America/New_York",
        "duration_minutes": 90,
        "audience": "north-america",
    }
    return data | extra


def test_pricing_page_lists_the_six_packages_with_what_they_include(client, catalogue):
    response = client.get(reverse("pricing"))
    body = response.content.decode()
    assert response.status_code == 200
    for price in (
        "$9,000.00",
        "$21,000.00",
        "$30,000.00",
        "$48,500.00",
        "$70,000.00",
        "$100,000.00",
    ):
        assert price in body
    assert "1,000,000" in body and "14 days" in body
    assert "producer, technical lead, 4 moderators, 2 stream engineers" in body


def test_signup_then_organisation_then_book(client, catalogue):
    response = client.post(
        reverse("signup"), {"email": "new@org.example", "password": "a-long-unusual-passphrase"}
    )
    assert response.status_code == 302
    response = client.post(
        reverse("webinars:organisation"),
        {
            "legal_name": "New Org GmbH",
            "address_line1": "Hauptstr. 1",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "de",
            "vat_id": "DE136695976",
            "billing_email": "ap@neworg.example",
            "po_number": "PO-7",
        },
    )
    assert response.status_code == 302
    organisation = Organisation.objects.get(legal_name="New Org GmbH")
    assert organisation.country == "DE"
    response = client.post(reverse("webinars:book"), _form())
    webinar = Webinar.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("webinars:detail", args=[webinar.code])
    detail = client.get(response["Location"]).content.decode()
    assert "Capacity held" in detail and 'id="countdown"' in detail


def test_signup_rejects_a_weak_password_and_a_taken_email(client, organiser):
    response = client.post(reverse("signup"), {"email": "x@y.example", "password": "123"})
    assert response.status_code == 400
    response = client.post(
        reverse("signup"), {"email": "ALICE@acme.example", "password": "a-long-unusual-passphrase"}
    )
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    # No account was created (the suite's standby Event Services staff are users too).
    assert User.objects.filter(is_staff=False).count() == 1


def test_password_reset_sends_an_email_with_a_working_link(client, organiser):
    client.post(reverse("password_reset"), {"email": organiser.email})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "another-long-passphrase", "new_password2": "another-long-passphrase"},
    )
    assert response.status_code == 302
    # Through the login page: every password check needs the request (login throttling).
    response = client.post(
        reverse("login"), {"username": organiser.email, "password": "another-long-passphrase"}
    )
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_live_quote_shows_price_cluster_and_availability(client, organiser, catalogue):
    client.force_login(organiser)
    body = client.post(
        reverse("webinars:quote"),
        _form(
            package="1m", audience="global", start=local_start(days=20).strftime("%Y-%m-%dT%H:%M")
        ),
    ).content.decode()
    assert "$100,000.00" in body
    assert "Available" in body
    assert "1,074" in body


def test_live_quote_offers_the_two_nearest_start_times_either_side_when_full(
    client, organiser, package_10k
):
    Region.objects.filter(code="us-east").update(fleet_size=13)
    hold(organiser, package_10k, start_local=local_start(days=20, hour=15))
    client.force_login(organiser)
    body = client.post(
        reverse("webinars:quote"), _form(audience="custom", **{"share_us-east": "100"})
    ).content.decode()
    assert "Not available then" in body and "us-east" in body
    alternatives = re.findall(
        r"<li>(.*?)</li>", body.split('id="alternatives"')[1].split("</ul>")[0]
    )
    # The webinar at 15:00 occupies 14:00-17:00: 12:00 and 11:45 work, then 18:00, 18:15.
    assert [re.search(r"\d\d:\d\d [A-Z]+</a>", a).group(0)[:5] for a in alternatives] == [
        "11:45",
        "12:00",
        "18:00",
        "18:15",
    ]
    assert "3 h earlier" in alternatives[1] and "3 h later" in alternatives[2]


def test_quote_explains_bad_input(client, organiser, catalogue):
    client.force_login(organiser)
    body = client.post(
        reverse("webinars:quote"),
        _form(audience="custom", **{"share_us-east": "60", "share_eu-west": "30"}),
    ).content.decode()
    assert "must add up to 100%" in body


def test_booking_a_full_slot_shows_no_longer_available_and_holds_nothing(
    client, organiser, package_10k
):
    Region.objects.filter(code="us-east").update(fleet_size=13)
    hold(organiser, package_10k, start_local=local_start(days=20, hour=15))
    client.force_login(organiser)
    response = client.post(
        reverse("webinars:book"), _form(audience="custom", **{"share_us-east": "100"})
    )
    assert response.status_code == 409
    assert "no longer available" in response.content.decode()
    assert Webinar.objects.count() == 1


def test_organisers_only_see_their_own_webinars(client, organiser, outsider, package_10k):
    mine = hold(organiser, package_10k, title="Mine")
    theirs = hold(outsider, package_10k, title="Theirs")
    client.force_login(organiser)
    dashboard = client.get(reverse("webinars:dashboard")).content.decode()
    assert "Mine" in dashboard and "Theirs" not in dashboard
    assert client.get(reverse("webinars:detail", args=[mine.code])).status_code == 200
    assert client.get(reverse("webinars:detail", args=[theirs.code])).status_code == 404


def test_pages_need_a_login(client, catalogue):
    response = client.get(reverse("webinars:dashboard"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_booking_without_an_organisation_leads_to_the_organisation_form(client, catalogue):
    client.force_login(User.objects.create_user(email="lone@x.example", password="pw-pw-pw-pw"))
    response = client.get(reverse("webinars:book"))
    assert response.status_code == 302
    assert response["Location"] == reverse("webinars:organisation")


@pytest.mark.parametrize("country", ["USA", "1X"])
def test_organisation_form_rejects_bad_country_codes(client, country, catalogue):
    client.force_login(User.objects.create_user(email="lone@x.example", password="pw-pw-pw-pw"))
    response = client.post(
        reverse("webinars:organisation"),
        {
            "legal_name": "X",
            "address_line1": "a",
            "city": "b",
            "country": country,
            "billing_email": "a@b.example",
        },
    )
    assert response.status_code == 400
    assert not Organisation.objects.exists()
    assert not AuditEntry.objects.filter(action="organisation.created").exists()


def test_changing_billing_details_is_audited_with_what_changed(client, organiser):
    client.force_login(organiser)
    organisation = organiser.membership.organisation
    data = {f: getattr(organisation, f) for f in Organisation.BILLING_FIELDS}
    response = client.post(
        reverse("webinars:organisation"), data | {"legal_name": "Acme Campaigns LLC", "vat_id": ""}
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="organisation.updated")
    assert entry.data == {"legal_name": "Acme Campaigns LLC"}
    assert entry.actor == organiser


@pytest.mark.parametrize(
    ("country", "vat_id", "stored_country", "stored_vat", "status"),
    [
        ("de", "136 695 976", "DE", "DE136695976", 302),  # prefix added, separators dropped
        ("EL", "", "GR", "", 302),  # Greece's VAT prefix typed as a country
        ("GR", "GR 094259216", "GR", "EL094259216", 302),  # Greek id with the ISO prefix
        ("DE", "DE123", None, None, 400),  # not a valid German VAT number
        ("ZZ", "", None, None, 400),  # not a country
        ("US", "12-3456789", "US", "123456789", 302),  # non-EU tax ids kept, compacted
    ],
)
def test_countries_and_vat_ids_are_validated_and_normalised(
    client, catalogue, country, vat_id, stored_country, stored_vat, status
):
    client.force_login(User.objects.create_user(email="vat@x.example", password="pw-pw-pw-pw"))
    response = client.post(
        reverse("webinars:organisation"),
        {
            "legal_name": "Vat Test",
            "address_line1": "a",
            "city": "b",
            "country": country,
            "vat_id": vat_id,
            "billing_email": "a@b.example",
        },
    )
    assert response.status_code == status
    organisation = Organisation.objects.filter(legal_name="Vat Test").first()
    if status == 302:
        assert (organisation.country, organisation.vat_id) == (stored_country, stored_vat)
    else:
        assert organisation is None
