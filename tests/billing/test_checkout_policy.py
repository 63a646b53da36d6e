"""The Stripe Checkout page states the cancellation policy under the line item, on the
emulator as on real Stripe (product_data.description)."""

import html
import urllib.request

from billing.services.checkout import start_checkout
from tests.conftest import hold

POLICY = [{"min_days": 21, "percent": 80}, {"min_days": 5, "percent": 25}]
EXPECTED = (
    "Cancellation policy: 80% refund when cancelled 21+ days before the start; "
    "25% refund when cancelled 5 to 21 days before the start; no refund less than 5 days "
    "before the start, or once provisioning of your relay cluster has begun."
)


def test_checkout_line_item_description_carries_the_cancellation_policy(
    manual_stripe, organiser, package_10k, settings
):
    settings.CANCELLATION_POLICY = POLICY
    webinar = hold(organiser, package_10k)
    payment = start_checkout(webinar, actor=organiser)

    items = manual_stripe.get(
        f"/v1/checkout/sessions/{payment.checkout_session_id}/line_items"
        "?expand[]=data.price.product"
    )["data"]
    assert len(items) == 1
    assert items[0]["price"]["product"]["description"] == EXPECTED
    assert items[0]["description"].startswith("10k")  # Stripe: the product's name

    with urllib.request.urlopen(payment.checkout_url, timeout=10) as response:
        page = html.unescape(response.read().decode())
    assert EXPECTED in page
