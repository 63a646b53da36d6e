"""In-process adjustments to localstripe 1.15.10 (pinned) so its objects look like today's API.

Everything here patches localstripe's module-level classes, which is only acceptable because
the emulator is a dedicated process. Each patch is applied once per process.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from localstripe.errors import UserError
from localstripe.resources import (
    Charge,
    Customer,
    Event,
    PaymentIntent,
    StripeObject,
    TaxId,
    store,
)

from devtools.stripe_emulator.common import invalid

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
    _patch_tax_ids()


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


# Stripe's tax id types look like `eu_vat`, `gb_vat`, `ca_gst_hst`; localstripe knows only
# four and wants more than 10 characters, which refuses real ids such as DK13585628.
_TAX_ID_TYPE = re.compile(r"[a-z]{2}_[a-z]{2,5}(_[a-z]{2,5})?")
_EU_VAT = re.compile(r"[A-Z]{2}[0-9A-Z+*]{2,13}")
_EU_VAT_COUNTRY = {"EL": "GR", "XI": "GB"}


def check_tax_id(type_: Any, value: Any, *, where: str = "") -> None:
    """Stripe-shaped 400 for a tax id Stripe would refuse (leniently: per-type formats
    other than the EU VAT id's are not checked). `where` prefixes the `param` named."""

    def param(name: str) -> str:
        return f"{where}[{name}]" if where else name

    if not isinstance(type_, str) or not _TAX_ID_TYPE.fullmatch(type_):
        raise invalid(f"Invalid value for type: {type_!r}.", param=param("type"))
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise invalid("Invalid value for value.", param=param("value"))
    if type_ == "eu_vat" and not _EU_VAT.fullmatch(value):
        raise invalid(
            f"Invalid value for eu_vat: {value!r}.", param=param("value"), code="tax_id_invalid"
        )


def add_tax_id(customer_id: str, params: dict[str, Any]) -> Any:
    """POST /v1/customers/{id}/tax_ids (localstripe's own route validates like __init__)."""
    extra = set(params) - {"type", "value"}
    if extra:
        raise invalid(f"Received unknown parameter: {sorted(extra)[0]}")
    customer = Customer._api_retrieve(customer_id)
    tax_id = TaxId(customer=customer_id, type=params.get("type"), value=params.get("value"))
    customer.tax_ids._list.append(tax_id)
    return tax_id


def _patch_tax_ids() -> None:
    def tax_id_init(
        self: Any,
        country: str | None = None,
        customer: Any = None,
        type: Any = None,
        value: Any = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        check_tax_id(type, value)
        if not isinstance(customer, str) or not customer.startswith("cus_"):
            raise invalid("Invalid customer.", param="customer")
        Customer._api_retrieve(customer)  # 404 if it does not exist
        StripeObject.__init__(self)
        prefix = value[:2]
        self.country = country or (
            _EU_VAT_COUNTRY.get(prefix, prefix) if type == "eu_vat" else type[:2].upper()
        )
        self.customer = customer
        self.type = type
        self.value = value
        self.verification = {"status": "verified", "verified_name": "", "verified_address": ""}

    original_customer_init = Customer.__init__

    def customer_init(self: Any, *args: Any, tax_id_data: Any = None, **kwargs: Any) -> None:
        items = _as_list(tax_id_data)
        for index, item in enumerate(items):
            if not isinstance(item, dict) or set(item) != {"type", "value"}:
                raise invalid("Invalid tax_id_data.", param=f"tax_id_data[{index}]")
            check_tax_id(item["type"], item["value"], where=f"tax_id_data[{index}]")
        original_customer_init(self, *args, **kwargs)
        self.tax_ids._list = [TaxId(customer=self.id, **item) for item in items]

    TaxId.__init__ = tax_id_init
    Customer.__init__ = customer_init


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, dict):  # `x[0][type]=...` from form bodies, keyed by index
        return [value[k] for k in sorted(value, key=lambda k: int(k) if str(k).isdigit() else 0)]
    return value if isinstance(value, list) else [value]
