"""Checkout Sessions (payment mode) for the local Stripe emulator: the object and its creation.

localstripe has no Checkout, so this module models the part of it the app uses. The session is
a localstripe `StripeObject`, so it lives in the same store (and is wiped by
`DELETE /_config/data`); payments are real localstripe PaymentIntents and Charges so refunds
and `GET /v1/payment_intents/{id}` work afterwards (see `checkout_flows`).
"""

from __future__ import annotations

import re
from typing import Any

from localstripe.resources import (
    Customer,
    PaymentIntent,
    StripeObject,
    random_id,
    store,
    try_convert_to_int,
)

from devtools.stripe_emulator.common import EmulatorConfig, invalid, missing, now

# Stripe's limit: 8 digits in minor units.
MAX_AMOUNT = 99_999_999
# Clock skew between the app computing `expires_at` and the emulator checking it.
EXPIRY_GRACE_SECONDS = 10
BANK_TRANSFER_CURRENCY = {
    "us_bank_transfer": "usd",
    "eu_bank_transfer": "eur",
    "gb_bank_transfer": "gbp",
    "jp_bank_transfer": "jpy",
    "mx_bank_transfer": "mxn",
}
ADDRESS_KEYS = ("city", "country", "line1", "line2", "postal_code", "state")


class CheckoutSession(StripeObject):
    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(self, params: dict[str, Any], public_url: str) -> None:
        super().__init__(id=self._id_prefix + random_id(40))
        self.mode = "payment"
        self.status = "open"
        self.payment_status = "unpaid"
        self.currency = params["currency"]
        self.amount_subtotal = params["amount_total"]
        self.amount_total = params["amount_total"]
        self.total_details = {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}
        self.customer = params["customer"]
        self.customer_email = params["customer_email"]
        self.customer_creation = params["customer_creation"]
        self.customer_details = None
        self.client_reference_id = params["client_reference_id"]
        self.metadata = params["metadata"]
        self.payment_intent = None
        self.payment_method_types = params["payment_method_types"]
        self.payment_method_options = params["payment_method_options"]
        self.billing_address_collection = params["billing_address_collection"]
        self.tax_id_collection = params["tax_id_collection"]
        self.locale = params["locale"]
        self.expires_at = params["expires_at"]
        self.success_url = params["success_url"]
        self.cancel_url = params["cancel_url"]
        self.url: str | None = f"{public_url}/checkout/pay/{self.id}"
        self.ui_mode = "hosted"
        self.submit_type = params["submit_type"]
        self.automatic_tax = {"enabled": False, "liability": None, "status": None}
        self.after_expiration = None
        self.allow_promotion_codes = None
        self.consent = None
        self.consent_collection = None
        self.custom_fields: list[Any] = []
        self.invoice = None
        self.invoice_creation = {"enabled": False, "invoice_data": None}
        self.payment_link = None
        self.phone_number_collection = {"enabled": False}
        self.recovered_from = None
        self.setup_intent = None
        self.shipping_address_collection = None
        self.shipping_cost = None
        self.shipping_options: list[Any] = []
        self.subscription = None
        self.return_url = None
        self._line_items: list[dict[str, Any]] = params["line_items"]
        self._payment_intent_data: dict[str, Any] = params["payment_intent_data"]
        self._customer_update: dict[str, Any] = params["customer_update"]

    def _line_items_list(self, expand: list[str] | None = None) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [_export_item(item, expand or []) for item in self._line_items],
            "has_more": False,
            "url": f"/v1/checkout/sessions/{self.id}/line_items",
        }

    def _export(self, expand: list[str] | None = None) -> dict[str, Any]:
        # Own expansion: localstripe's would try to look up `line_items` as an id.
        obj = super()._export()
        for path in expand or []:
            head, _, rest = path.partition(".")
            sub_expand = [rest] if rest else None
            if head == "line_items":
                obj["line_items"] = self._line_items_list(expand=sub_expand)
            elif head == "payment_intent" and self.payment_intent:
                pi = PaymentIntent._api_retrieve(self.payment_intent)
                obj["payment_intent"] = pi._export(expand=sub_expand)
            elif head == "customer" and self.customer:
                obj["customer"] = Customer._api_retrieve(self.customer)._export(expand=sub_expand)
        return obj


def _export_item(item: dict[str, Any], expand: list[str]) -> dict[str, Any]:
    exported = {key: value for key, value in item.items() if not key.startswith("_")}
    if "data.price.product" in expand:
        product = item["_product"]
        price = dict(exported["price"])
        price["product"] = {
            "id": price["product"],
            "object": "product",
            "active": True,
            "created": price["created"],
            "description": product["description"],
            "images": [],
            "livemode": False,
            "metadata": {},
            "name": product["name"],
        }
        exported["price"] = price
    return exported


# --- creation -------------------------------------------------------------------------------


def _as_int(value: Any, param: str) -> int:
    converted = try_convert_to_int(value)
    if type(converted) is not int:
        raise invalid(f"Invalid integer: {value}", param=param)
    return converted


def _as_dict(value: Any, param: str) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid(f"Invalid object: {param}", param=param)
    return value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):  # `x[0]=a` from JSON bodies, keyed by index
        return [value[k] for k in sorted(value, key=lambda k: int(k) if str(k).isdigit() else 0)]
    return [value]


def _check_url(value: Any, param: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.match(r"^https?://[^\s]+$", value):
        raise invalid("Not a valid URL", param=param, code="url_invalid")
    return value


def _check_metadata(value: Any, param: str) -> dict[str, str]:
    metadata = _as_dict(value, param)
    if len(metadata) > 50:
        raise invalid("Metadata can have at most 50 keys.", param=param)
    for key, item in metadata.items():
        if len(str(key)) > 40:
            raise invalid("Metadata keys can be at most 40 characters.", param=f"{param}[{key}]")
        if len(str(item)) > 500:
            raise invalid("Metadata values can be at most 500 characters.", param=f"{param}[{key}]")
    return {str(k): str(v) for k, v in metadata.items()}


def _parse_line_items(value: Any) -> tuple[list[dict[str, Any]], str, int]:
    items = _as_list(value)
    if not items:
        raise invalid(
            "Missing required param: line_items.", param="line_items", code="parameter_missing"
        )
    if len(items) > 100:
        raise invalid("Checkout allows at most 100 line items.", param="line_items")
    parsed: list[dict[str, Any]] = []
    currency: str | None = None
    total = 0
    for index, raw in enumerate(items):
        prefix = f"line_items[{index}]"
        item = _as_dict(raw, prefix)
        if "price" in item and "price_data" not in item:
            raise invalid(
                "The Stripe emulator has no Prices; pass `price_data` instead.",
                param=f"{prefix}[price]",
            )
        price_data = _as_dict(item.get("price_data"), f"{prefix}[price_data]")
        item_currency = price_data.get("currency")
        if not isinstance(item_currency, str) or not re.fullmatch(r"[a-zA-Z]{3}", item_currency):
            raise invalid("Missing or invalid currency.", param=f"{prefix}[price_data][currency]")
        item_currency = item_currency.lower()
        if currency is not None and item_currency != currency:
            raise invalid(
                "All line items must use the same currency.",
                param=f"{prefix}[price_data][currency]",
            )
        currency = item_currency
        unit_amount = _as_int(price_data.get("unit_amount"), f"{prefix}[price_data][unit_amount]")
        if unit_amount <= 0:
            raise invalid(
                "unit_amount must be a positive integer (minor units).",
                param=f"{prefix}[price_data][unit_amount]",
            )
        quantity = _as_int(item.get("quantity", 1), f"{prefix}[quantity]")
        if quantity < 1:
            raise invalid("quantity must be at least 1.", param=f"{prefix}[quantity]")
        product_data = _as_dict(
            price_data.get("product_data"), f"{prefix}[price_data][product_data]"
        )
        name = product_data.get("name")
        product_id = price_data.get("product")
        if not name and isinstance(product_id, str):
            name = getattr(store.get(f"product:{product_id}"), "name", product_id)
        if not isinstance(name, str) or not name:
            raise invalid(
                "Missing required param: product_data[name].",
                param=f"{prefix}[price_data][product_data][name]",
                code="parameter_missing",
            )
        description = product_data.get("description")
        if description is not None and not isinstance(description, str):
            raise invalid(
                "Invalid string: product_data[description].",
                param=f"{prefix}[price_data][product_data][description]",
            )
        amount = unit_amount * quantity
        total += amount
        parsed.append(
            {
                "id": "li_" + random_id(24),
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": amount,
                "amount_tax": 0,
                "amount_total": amount,
                "currency": item_currency,
                "description": name,
                "quantity": quantity,
                "price": {
                    "id": "price_" + random_id(24),
                    "object": "price",
                    "active": False,
                    "billing_scheme": "per_unit",
                    "created": now(),
                    "currency": item_currency,
                    "livemode": False,
                    "metadata": {},
                    "product": product_id
                    if isinstance(product_id, str)
                    else "prod_" + random_id(14),
                    "recurring": None,
                    "tax_behavior": price_data.get("tax_behavior", "unspecified"),
                    "type": "one_time",
                    "unit_amount": unit_amount,
                    "unit_amount_decimal": str(unit_amount),
                },
                # Not exported: the product behind the price, for `data.price.product`
                # expansion and the hosted page (where Stripe shows its description).
                "_product": {"name": name, "description": description or None},
            }
        )
    assert currency is not None
    if total > MAX_AMOUNT:
        raise invalid(
            "Amount must be no more than 99999999 (8 digits) in minor units.",
            param="line_items",
            code="amount_too_large",
        )
    return parsed, currency, total


def _parse_expires_at(value: Any, config: EmulatorConfig) -> int:
    current = now()
    if value is None or value == "":
        return current + config.max_expiry_seconds
    expires_at = _as_int(value, "expires_at")
    if expires_at < current + config.min_expiry_seconds - EXPIRY_GRACE_SECONDS:
        raise invalid(
            f"The `expires_at` timestamp must be at least {config.min_expiry_seconds // 60} "
            f"minutes ({config.min_expiry_seconds} s) from Checkout Session creation.",
            param="expires_at",
        )
    if expires_at > current + config.max_expiry_seconds + EXPIRY_GRACE_SECONDS:
        raise invalid(
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
            param="expires_at",
        )
    return expires_at


def _parse_payment_methods(
    params: dict[str, Any], currency: str, customer: str | None, customer_creation: str | None
) -> tuple[list[str], dict[str, Any]]:
    types = [str(t) for t in _as_list(params.get("payment_method_types"))] or ["card"]
    options = _as_dict(params.get("payment_method_options"), "payment_method_options")
    if "customer_balance" not in types:
        return types, options
    if customer is None and customer_creation != "always":
        raise invalid(
            "The `customer_balance` payment method requires a `customer` (or "
            "`customer_creation=always`).",
            param="customer",
        )
    # Lenient defaults, but a transfer type must match the currency as on Stripe.
    balance = _as_dict(options.get("customer_balance"), "payment_method_options[customer_balance]")
    balance.setdefault("funding_type", "bank_transfer")
    transfer = _as_dict(
        balance.get("bank_transfer"), "payment_method_options[customer_balance][bank_transfer]"
    )
    default_type = next(
        (t for t, c in BANK_TRANSFER_CURRENCY.items() if c == currency), "eu_bank_transfer"
    )
    transfer.setdefault("type", default_type)
    expected = BANK_TRANSFER_CURRENCY.get(transfer["type"])
    if expected is not None and expected != currency:
        raise invalid(
            f"The currency provided ({currency}) is invalid for {transfer['type']}.",
            param="payment_method_options[customer_balance][bank_transfer][type]",
        )
    if transfer["type"] == "eu_bank_transfer":
        eu = _as_dict(
            transfer.get("eu_bank_transfer"),
            "payment_method_options[customer_balance][bank_transfer][eu_bank_transfer]",
        )
        eu.setdefault("country", "DE")
        transfer["eu_bank_transfer"] = eu
    balance["bank_transfer"] = transfer
    options["customer_balance"] = balance
    return types, options


def create_session(params: dict[str, Any], config: EmulatorConfig) -> CheckoutSession:
    mode = params.get("mode")
    if mode is None:
        raise invalid("Missing required param: mode.", param="mode", code="parameter_missing")
    if mode != "payment":
        raise invalid("The Stripe emulator only implements `mode=payment`.", param="mode")

    line_items, currency, total = _parse_line_items(params.get("line_items"))

    customer = params.get("customer") or None
    customer_email = params.get("customer_email") or None
    if customer is not None and customer_email is not None:
        raise invalid(
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    if customer is not None and store.get(f"customer:{customer}") is None:
        raise invalid(f"No such customer: '{customer}'", param="customer", code="resource_missing")
    customer_creation = params.get("customer_creation") or None
    if customer_creation not in (None, "always", "if_required"):
        raise invalid("Invalid customer_creation.", param="customer_creation")
    customer_update = _as_dict(params.get("customer_update"), "customer_update")
    if customer_update and customer is None:
        raise invalid(
            "`customer_update` can only be used with `customer`.", param="customer_update"
        )
    for key, value in customer_update.items():
        if key not in ("address", "name", "shipping") or value not in ("auto", "never"):
            raise invalid(
                f"Invalid customer_update[{key}]: must be one of auto, never.",
                param=f"customer_update[{key}]",
            )

    types, options = _parse_payment_methods(params, currency, customer, customer_creation)

    client_reference_id = params.get("client_reference_id") or None
    if client_reference_id is not None and len(str(client_reference_id)) > 200:
        raise invalid(
            "client_reference_id can be at most 200 characters.", param="client_reference_id"
        )

    payment_intent_data = _as_dict(params.get("payment_intent_data"), "payment_intent_data")
    payment_intent_data["metadata"] = _check_metadata(
        payment_intent_data.get("metadata"), "payment_intent_data[metadata]"
    )

    tax_id_collection = _as_dict(params.get("tax_id_collection"), "tax_id_collection")
    billing = params.get("billing_address_collection") or "auto"
    if billing not in ("auto", "required"):
        raise invalid("Invalid billing_address_collection.", param="billing_address_collection")

    return CheckoutSession(
        {
            "currency": currency,
            "amount_total": total,
            "line_items": line_items,
            "customer": customer,
            "customer_email": customer_email,
            "customer_creation": None if customer else (customer_creation or "if_required"),
            "customer_update": customer_update,
            "client_reference_id": client_reference_id,
            "metadata": _check_metadata(params.get("metadata"), "metadata"),
            "payment_method_types": types,
            "payment_method_options": options,
            "payment_intent_data": payment_intent_data,
            "billing_address_collection": billing,
            "tax_id_collection": {
                "enabled": str(tax_id_collection.get("enabled", "false")).lower() == "true",
                "required": tax_id_collection.get("required", "never"),
            },
            "locale": params.get("locale") or None,
            "expires_at": _parse_expires_at(params.get("expires_at"), config),
            "success_url": _check_url(params.get("success_url"), "success_url"),
            "cancel_url": _check_url(params.get("cancel_url"), "cancel_url"),
            "submit_type": params.get("submit_type") or None,
        },
        config.public_url,
    )


def get_session(session_id: str) -> CheckoutSession:
    session = store.get(f"checkout.session:{session_id}")
    if not isinstance(session, CheckoutSession):
        raise missing("checkout.session", session_id)
    return session


def all_sessions() -> list[CheckoutSession]:
    return [obj for obj in list(store.values()) if isinstance(obj, CheckoutSession)]
