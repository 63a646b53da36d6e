"""Signed webhook delivery with a delay and retries, for every event of the emulator.

localstripe's `schedule_webhook()` looks up `_send_webhook` in its module at call time, so
replacing that function routes localstripe's own events (customer.created, ...) through the
same path as the emulator's: one signature scheme, one delay, retries on failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
import localstripe.webhooks as localstripe_webhooks
from aiohttp import web

logger = logging.getLogger("stripe_emulator.webhooks")


def register_endpoint(
    endpoint_id: str, url: str, secret: str, events: list[str] | None = None
) -> None:
    # Shares localstripe's registry so POST /_config/webhooks/{id} keeps working alongside.
    localstripe_webhooks.register_webhook(endpoint_id, url, secret, events)


def _matching_endpoints(event_type: str) -> list[Any]:
    return [
        endpoint
        for endpoint in list(localstripe_webhooks._webhooks.values())
        if endpoint.events is None or event_type in endpoint.events
    ]


def count_endpoints(event_type: str) -> int:
    return len(_matching_endpoints(event_type))


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class WebhookDeliverer:
    def __init__(
        self,
        delay: float,
        retry_delays: Sequence[float] = (0.5, 1.0, 2.0, 4.0),
        timeout: float = 10.0,
    ) -> None:
        self._delay = delay
        self._retry_delays = tuple(retry_delays)
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def install(self) -> None:
        localstripe_webhooks._send_webhook = self.deliver

    async def on_startup(self, _app: web.Application) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))

    async def on_cleanup(self, _app: web.Application) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def deliver(self, event: Any) -> None:
        task = asyncio.current_task()
        if task is not None:
            # asyncio keeps only weak references to tasks; localstripe keeps none.
            self._tasks.add(task)
        try:
            endpoints = _matching_endpoints(event.type)
            if not endpoints:
                return
            payload = json.dumps(event._export(), indent=2, sort_keys=True).encode()
            # Lets the API response that caused the event reach the caller (and its DB
            # transaction commit) before the webhook does, as with real Stripe.
            await asyncio.sleep(self._delay)
            await asyncio.gather(*(self._deliver_to(event, payload, ep) for ep in endpoints))
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _deliver_to(self, event: Any, payload: bytes, endpoint: Any) -> None:
        attempts = len(self._retry_delays) + 1
        for attempt in range(1, attempts + 1):
            ok, detail = await self._post(endpoint, payload)
            logger.info(
                "webhook %s %s -> %s: %s (attempt %d/%d)",
                event.id,
                event.type,
                endpoint.url,
                detail,
                attempt,
                attempts,
            )
            if ok:
                event.pending_webhooks = max(0, getattr(event, "pending_webhooks", 1) - 1)
                return
            if attempt < attempts:
                await asyncio.sleep(self._retry_delays[attempt - 1])
        logger.warning("webhook %s %s -> %s: giving up", event.id, event.type, endpoint.url)

    async def _post(self, endpoint: Any, payload: bytes) -> tuple[bool, str]:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout)
            )
        # Signed at send time, like Stripe: a retry minutes later must still pass the
        # receiver's timestamp tolerance (300 s in the SDK).
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature_header(payload, endpoint.secret, int(time.time())),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) stripe-emulator",
        }
        try:
            async with self._session.post(endpoint.url, data=payload, headers=headers) as resp:
                await resp.read()
                return 200 <= resp.status < 300, f"HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return False, f"{type(exc).__name__}: {exc}"
