"""Local Stripe emulator for `make run` and the test suite. NOT Stripe, never used in production.

Run it with ``python -m devtools.stripe_emulator [--port 12111] [--webhook-url URL
--webhook-secret SECRET]``. It serves localstripe's aiohttp app (Customers, PaymentIntents,
Refunds, Events, ...) on loopback only, plus project-owned routes for what localstripe lacks:

* ``/v1/checkout/sessions`` (payment mode with ``price_data`` line items), with Stripe's
  ``expires_at`` rules, ``Idempotency-Key`` replay and self-expiry;
* a hosted payment page at ``/checkout/pay/{id}`` standing in for Stripe's hosted Checkout
  (card success, card decline, bank transfer with emulator-only "funds received" controls);
* ``refund.*``, ``charge.refunded`` and ``charge.dispute.created`` events, and test helpers
  under ``/_test/...`` that drive the same transitions as JSON endpoints;
* signed webhook delivery with retries, for localstripe's own events too;
* Customer tax ids of Stripe's types (localstripe knows four), and a hosted page that does
  not ask again for the address and tax ids the Customer already has.

Production code must never import this package: it patches localstripe internals in-process
and only makes sense as a stand-in server. localstripe itself has no Checkout Sessions or
Prices, no refund, charge or Checkout events and no idempotency (the README's "The Stripe
emulator vs real Stripe" lists how the emulator still differs from Stripe).
"""
