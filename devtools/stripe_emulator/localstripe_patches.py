"""In-process adjustments to localstripe 1.15.10 (pinned) so its objects look like today's API.

Everything here patches localstripe's module-level classes, which is only acceptable because
the emulator is a dedicated process. Each patch is applied once per process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localstripe.resources import Charge, Event, PaymentIntent, StripeObject, store

_installed = False


def install(api_version: str, count_endpoints: Callable[[str], int]) -> None:
    # Patches wrap the previous definitions, so a second install would stack them.
    global _installed
    if _installed:
        return
    _installed = True
    _disable_disk_persistence()
    _patch_events(api_version, count_endpoints)
    _patch_payment_intents()
    _patch_charges()


def _disable_disk_persistence() -> None:
    # The store pickles itself to the fixed /tmp/localstripe.pickle on every write, so parallel
    # emulators (xdist, make run next to make test) would share and clobber state.
    store.dump_to_disk = lambda: None


def _patch_events(api_version: str, count_endpoints: Callable[[str], int]) -> None:
    original_init = Event.__init__

    def init(self: Any, type: str, data: Any) -> None:
        original_init(self, type, data)
        self.api_version = api_version
        self.pending_webhooks = count_endpoints(type)
        self.request = {"id": None, "idempotency_key": None}

    Event.__init__ = init


def _patch_payment_intents() -> None:
    def export(self: Any, expand: list[str] | None = None) -> dict[str, Any]:
        paths = expand if isinstance(expand, list) else []
        keep_charge = any(p == "latest_charge" or p.startswith("latest_charge.") for p in paths)
        obj = StripeObject._export(self, expand=expand)
        # Today's API returns the charge id unless expanded; localstripe always embeds it.
        if isinstance(obj.get("latest_charge"), dict) and not keep_charge:
            obj["latest_charge"] = obj["latest_charge"]["id"]
        # `charges` was removed from PaymentIntent in 2022-11-15.
        obj.pop("charges", None)
        obj["amount_received"] = self.amount if obj.get("status") == "succeeded" else 0
        obj["payment_method_types"] = getattr(self, "_payment_method_types", None) or ["card"]
        obj.setdefault("description", None)
        obj.setdefault("cancellation_reason", None)
        obj.setdefault("amount_capturable", 0)
        return obj

    PaymentIntent._export = export


def _patch_charges() -> None:
    def amount_refunded(self: Any) -> int:
        # A failed or canceled refund gives the money back to the charge, as on Stripe.
        return sum(
            refund.amount
            for refund in self.refunds._list
            if getattr(refund, "status", "succeeded") not in ("failed", "canceled")
        )

    def export(self: Any, expand: list[str] | None = None) -> dict[str, Any]:
        obj = StripeObject._export(self, expand=expand)
        obj.setdefault("disputed", False)
        obj["amount_captured"] = self.amount if self.captured and obj["paid"] else 0
        if "payment_method_details" not in obj:
            obj["payment_method_details"] = _card_details(self.payment_method)
        return obj

    Charge.amount_refunded = property(amount_refunded)
    Charge._export = export


def _card_details(payment_method_id: str | None) -> dict[str, Any] | None:
    payment_method = store.get(f"payment_method:{payment_method_id}")
    card = getattr(payment_method, "card", None)
    if not card:
        return None
    return {
        "type": "card",
        "card": {
            key: card.get(key)
            for key in (
                "brand",
                "last4",
                "exp_month",
                "exp_year",
                "country",
                "funding",
                "fingerprint",
            )
        },
    }
