"""Assembles the emulator: localstripe's aiohttp app plus the project-owned routes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from localstripe import server as localstripe_server

from devtools.stripe_emulator import api, hosted_page, localstripe_patches, refunds
from devtools.stripe_emulator import checkout_flows as flows
from devtools.stripe_emulator.common import (
    API_VERSION,
    CONFIG_KEY,
    EmulatorConfig,
    json_response,
    read_params,
    stripe_error_response,
)
from devtools.stripe_emulator.webhooks import WebhookDeliverer, count_endpoints

logger = logging.getLogger("stripe_emulator")

# Like checkout.stripe.com, the hosted page needs no secret key; /_test is ours.
_KEYLESS_PREFIXES = ("/checkout/", "/_test/")


@web.middleware
async def stripe_not_found_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Stripe answers unknown URLs with a JSON error (the SDK raises InvalidRequestError);
    # aiohttp's plain-text 404 would surface as a confusing APIError instead.
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        if not request.path.startswith("/v1/"):
            raise
        return stripe_error_response(
            404,
            f"Unrecognized request URL ({request.method}: {request.path}). "
            "The Stripe emulator does not implement it.",
        )


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(_KEYLESS_PREFIXES):
        return await handler(request)
    return await localstripe_server.auth_middleware(request, handler)


@dataclass
class _SavedResponse:
    fingerprint: str
    status: int
    body: bytes


@dataclass
class IdempotencyStore:
    """Stripe's idempotency layer: replay the first successful response for a key."""

    saved: dict[str, _SavedResponse] = field(default_factory=dict)
    in_flight: set[str] = field(default_factory=set)

    def middleware(self) -> Middleware:
        @web.middleware
        async def idempotency_middleware(
            request: web.Request, handler: Handler
        ) -> web.StreamResponse:
            if request.method == "DELETE" and request.path == "/_config/data":
                # Saved responses would point at objects the store reset just wiped.
                self.saved.clear()
            key = request.headers.get("Idempotency-Key")
            if request.method != "POST" or not key or not request.path.startswith("/v1/"):
                return await handler(request)
            fingerprint = json.dumps(
                [request.path, await read_params(request)], sort_keys=True, default=str
            )
            saved = self.saved.get(key)
            if saved is not None:
                if saved.fingerprint != fingerprint:
                    return stripe_error_response(
                        400,
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with. Try using a key other than "
                        f"'{key}' if you meant to execute a different request.",
                        error_type="idempotency_error",
                    )
                return web.Response(
                    body=saved.body,
                    status=saved.status,
                    content_type="application/json",
                    headers={"Idempotent-Replayed": "true", "Idempotency-Key": key},
                )
            if key in self.in_flight:
                return stripe_error_response(
                    409,
                    "There is currently another in-progress request using this Idempotent "
                    f"Key '{key}'. Please try again later.",
                    error_type="idempotency_error",
                )
            self.in_flight.add(key)
            try:
                response = await handler(request)
            finally:
                self.in_flight.discard(key)
            # Validation errors are raised (not returned) and so never saved, as on Stripe.
            if (
                isinstance(response, web.Response)
                and isinstance(response.body, bytes)
                and (200 <= response.status < 300)
            ):
                self.saved[key] = _SavedResponse(fingerprint, response.status, response.body)
            response.headers["Idempotency-Key"] = key
            return response

        return idempotency_middleware


@web.middleware
async def refund_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Takes over localstripe's POST /v1/refunds (already registered, so it cannot be replaced).
    if request.method == "POST" and request.path == "/v1/refunds":
        return json_response(refunds.create_refund(await read_params(request)))
    return await handler(request)


_TAX_IDS_PATH = re.compile(r"^/v1/customers/(?P<id>[^/]+)/tax_ids$")


@web.middleware
async def tax_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Takes over localstripe's POST /v1/customers/{id}/tax_ids, which knows four types only.
    match = _TAX_IDS_PATH.match(request.path)
    if request.method == "POST" and match:
        params = await read_params(request)
        return json_response(localstripe_patches.add_tax_id(match["id"], params)._export())
    return await handler(request)


async def _expire_sessions_forever() -> None:
    while True:
        await asyncio.sleep(1)
        try:
            flows.expire_due_sessions()
        except Exception:
            logger.exception("checking Checkout Session expiry failed")


async def _expiry_loop(_app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_expire_sessions_forever())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def build_app(config: EmulatorConfig) -> web.Application:
    """Configure localstripe's module-level app; call once per process, before it starts."""
    app = localstripe_server.app
    if CONFIG_KEY in app:
        raise RuntimeError("the Stripe emulator app is already built in this process")
    app[CONFIG_KEY] = config
    localstripe_patches.install(API_VERSION, count_endpoints)

    deliverer = WebhookDeliverer(config.webhook_delay)
    deliverer.install()
    app.on_startup.append(deliverer.on_startup)
    app.on_cleanup.append(deliverer.on_cleanup)
    app.cleanup_ctx.append(_expiry_loop)

    middlewares = app.middlewares
    middlewares.remove(localstripe_server.save_store_middleware)
    middlewares[middlewares.index(localstripe_server.auth_middleware)] = auth_middleware
    middlewares.insert(0, stripe_not_found_middleware)
    middlewares.append(IdempotencyStore().middleware())
    middlewares.append(refund_middleware)
    middlewares.append(tax_id_middleware)

    api.add_routes(app)
    hosted_page.add_routes(app)
    return app
