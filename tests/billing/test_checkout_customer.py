"""The hosted checkout does not ask again for what the organisation gave: the Stripe
Customer carries its name, billing email, address and VAT id, and the session reuses them
(no required address collection, no tax-id collection, nothing written back)."""

import requests

from billing.models import StripeCustomer
from billing.services.checkout import start_checkout
from tests.billing.finance_helpers import organiser_in
from tests.conftest import hold
from webinars import services


def _customer(emulator, organisation) -> dict:
    stripe_id = StripeCustomer.objects.get(organisation=organisation).stripe_id
    customer = emulator.get(f"/v1/customers/{stripe_id}")
    customer["tax_ids"] = emulator.get(f"/v1/customers/{stripe_id}/tax_ids")["data"]
    return customer


def test_the_customer_carries_the_organisations_address_and_vat_id(manual_stripe, package_10k):
    user = organiser_in("DK", "Copenhagen Live ApS", vat_id="DK13585628")
    organisation = user.membership.organisation
    payment = start_checkout(hold(user, package_10k), actor=user)

    customer = _customer(manual_stripe, organisation)
    assert customer["name"] == "Copenhagen Live ApS"
    assert customer["email"] == organisation.billing_email
    address = customer["address"]
    assert (address["line1"], address["city"], address["postal_code"], address["country"]) == (
        "1 Main Street",
        "Springfield",
        "12345",
        "DK",
    )
    assert [(t["type"], t["value"]) for t in customer["tax_ids"]] == [("eu_vat", "DK13585628")]

    session = manual_stripe.get(f"/v1/checkout/sessions/{payment.checkout_session_id}")
    assert session["customer"] == customer["id"]
    assert session["billing_address_collection"] == "auto"
    assert session["tax_id_collection"]["enabled"] is False


def test_changed_billing_details_reach_the_customer_at_the_next_checkout(
    manual_stripe, package_10k
):
    user = organiser_in("DE", "Berlin Media GmbH", vat_id="DE136695976")
    organisation = user.membership.organisation
    start_checkout(hold(user, package_10k), actor=user)
    services.update_organisation(
        organisation,
        actor=user,
        address_line1="2 Neue Strasse",
        city="Hamburg",
        postal_code="20095",
        vat_id="",
    )
    start_checkout(hold(user, package_10k, title="Second"), actor=user)
    customer = _customer(manual_stripe, organisation)
    assert customer["address"]["line1"] == "2 Neue Strasse"
    assert customer["address"]["city"] == "Hamburg"
    assert customer["tax_ids"] == []
    services.update_organisation(organisation, actor=user, vat_id="DE136695976")
    start_checkout(hold(user, package_10k, title="Third"), actor=user)
    tax_ids = _customer(manual_stripe, organisation)["tax_ids"]
    assert [(t["type"], t["value"]) for t in tax_ids] == [("eu_vat", "DE136695976")]


def test_the_hosted_page_does_not_ask_for_the_address_or_vat_id_again(manual_stripe, package_10k):
    user = organiser_in("DE", "Berlin Media GmbH", vat_id="DE136695976")
    payment = start_checkout(hold(user, package_10k), actor=user)
    page = requests.get(payment.checkout_url, timeout=10).text
    for field in ("address_line1", "address_city", "address_postal_code", "address_country"):
        assert f'name="{field}"' not in page
    assert 'name="tax_id"' not in page
    assert "1 Main Street" in page  # shown as what is on file
    # Paying without typing them keeps the organisation's details on the session.
    manual_stripe.post(f"/_test/checkout/sessions/{payment.checkout_session_id}/pay_card")
    details = manual_stripe.get(f"/v1/checkout/sessions/{payment.checkout_session_id}")[
        "customer_details"
    ]
    assert details["address"]["line1"] == "1 Main Street" and details["address"]["country"] == "DE"
