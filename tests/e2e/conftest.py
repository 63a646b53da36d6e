# The billing fixtures (emulator delivering webhooks to the live server) serve here too.
from tests.billing.conftest import live_stripe, stripe_live  # noqa: F401
