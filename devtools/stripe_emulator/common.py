"""Shared helpers of the local Stripe emulator: configuration, Stripe-shaped errors, events."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from localstripe.errors import UserError
from localstripe.resources import Event
from localstripe.server import get_post_data, unflatten_data
from localstripe.webhooks import schedule_webhook

try:
    import stripe as _stripe_sdk

    # Events carry the version the app's SDK speaks, so payloads look like the ones it expects.
    API_VERSION: str = str(_stripe_sdk.api_version)
except ImportError:  # pragma: no cover - the SDK is a project dependency
    API_VERSION = "2026-10-28.endive"


@dataclass
class EmulatorConfig:
    public_url: str
    webhook_delay: float = 0.2
    # Stripe's window for `expires_at`; the lower bound is lowered only by a hidden CLI flag.
    min_expiry_seconds: int = 30 * 60
    max_expiry_seconds: int = 24 * 60 * 60


CONFIG_KEY = web.AppKey("stripe_emulator_config", EmulatorConfig)


def now() -> int:
    return int(time.time())


def json_response(data: Any, status: int = 200) -> web.Response:
    # Same serialisation as localstripe's own responses, so both halves look alike.
    return web.json_response(
        data, status=status, dumps=lambda x: json.dumps(x, indent=2, sort_keys=True) + "\n"
    )


def invalid(
    message: str, *, param: str | None = None, code: str | None = None, status: int = 400
) -> UserError:
    """A Stripe-shaped `invalid_request_error`, rendered by localstripe's error middleware."""
    contents: dict[str, Any] = {}
    if param is not None:
        contents["param"] = param
    if code is not None:
        contents["code"] = code
    return UserError(status, message, contents)


def missing(object_name: str, object_id: str, *, param: str = "id") -> UserError:
    return invalid(
        f"No such {object_name}: '{object_id}'", param=param, code="resource_missing", status=404
    )


def stripe_error_response(
    status: int, message: str, *, error_type: str = "invalid_request_error", **extra: Any
) -> web.Response:
    return json_response({"error": {"type": error_type, "message": message, **extra}}, status)


async def read_params(request: web.Request) -> dict[str, Any]:
    """Form-encoded (SDK) or JSON body as a nested dict; query parameters fill the gaps."""
    data = await get_post_data(request)
    if data and not isinstance(data, Mapping):
        raise invalid("Request body must be an object.")
    params: dict[str, Any] = dict(data) if data else {}
    for key, value in (unflatten_data(request.query) or {}).items():
        params.setdefault(key, value)
    return params


def read_query(request: web.Request) -> dict[str, Any]:
    return dict(unflatten_data(request.query) or {})


def pop_expand(params: dict[str, Any]) -> list[str]:
    expand = params.pop("expand", None)
    if expand is None:
        return []
    if isinstance(expand, str):
        return [expand]
    if isinstance(expand, list) and all(isinstance(item, str) for item in expand):
        return expand
    raise invalid("Invalid array", param="expand")


def emit(event_type: str, obj: Any) -> Any:
    """Create a real localstripe Event (so GET /v1/events/{id} finds it) and deliver it."""
    event = Event(event_type, obj)
    schedule_webhook(event)
    return event


_ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}


def format_amount(amount: int, currency: str) -> str:
    """`3000000, "usd"` -> `$30,000.00 USD` (minor units, as Stripe amounts are)."""
    code = currency.lower()
    number = f"{amount:,}" if code in _ZERO_DECIMAL else f"{amount // 100:,}.{amount % 100:02d}"
    return f"{_SYMBOLS.get(code, '')}{number} {code.upper()}"
