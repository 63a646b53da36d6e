"""JSON routes the emulator adds to localstripe: Checkout Sessions, disputes, /_test helpers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import web
from localstripe.resources import store

from devtools.stripe_emulator import checkout, refunds
from devtools.stripe_emulator import checkout_flows as flows
from devtools.stripe_emulator.checkout import CheckoutSession
from devtools.stripe_emulator.checkout_flows import BuyerDetails
from devtools.stripe_emulator.common import (
    CONFIG_KEY,
    invalid,
    json_response,
    missing,
    pop_expand,
    read_params,
    read_query,
)


def _list_object(url: str, objects: Iterable[Any], query: dict[str, Any]) -> dict[str, Any]:
    """Stripe list envelope, newest first, with `limit` and `starting_after`."""
    expand = [path.removeprefix("data.") for path in pop_expand(query)]
    try:
        limit = min(max(int(query.get("limit", 10)), 1), 100)
    except (TypeError, ValueError):
        raise invalid("Invalid integer: limit", param="limit") from None
    items = list(objects)
    starting_after = query.get("starting_after")
    if starting_after:
        ids = [obj.id for obj in items]
        if starting_after in ids:
            items = items[ids.index(starting_after) + 1 :]
    return {
        "object": "list",
        "url": url,
        "has_more": len(items) > limit,
        "data": [obj._export(expand=expand) for obj in items[:limit]],
    }


# --- /v1/checkout/sessions ------------------------------------------------------------------


async def create_session(request: web.Request) -> web.Response:
    params = await read_params(request)
    expand = pop_expand(params)
    session = checkout.create_session(params, request.app[CONFIG_KEY])
    return json_response(session._export(expand=expand))


async def retrieve_session(request: web.Request) -> web.Response:
    query = read_query(request)
    session = checkout.get_session(request.match_info["id"])
    return json_response(session._export(expand=pop_expand(query)))


async def list_sessions(request: web.Request) -> web.Response:
    query = read_query(request)
    sessions = list(reversed(checkout.all_sessions()))
    for name in ("customer", "payment_intent", "status"):
        if query.get(name):
            sessions = [s for s in sessions if getattr(s, name) == query[name]]
    return json_response(_list_object("/v1/checkout/sessions", sessions, query))


async def list_line_items(request: web.Request) -> web.Response:
    session = checkout.get_session(request.match_info["id"])
    return json_response(session._line_items_list(expand=pop_expand(read_query(request))))


async def expire_session(request: web.Request) -> web.Response:
    session = checkout.get_session(request.match_info["id"])
    flows.expire_session(session)
    return json_response(session._export(expand=pop_expand(await read_params(request))))


# --- /v1/disputes ---------------------------------------------------------------------------


async def retrieve_dispute(request: web.Request) -> web.Response:
    dispute = store.get(f"dispute:{request.match_info['id']}")
    if dispute is None:
        raise missing("dispute", request.match_info["id"])
    return json_response(dispute._export())


async def list_disputes(request: web.Request) -> web.Response:
    query = read_query(request)
    disputes = [obj for obj in reversed(list(store.values())) if isinstance(obj, refunds.Dispute)]
    for name in ("charge", "payment_intent"):
        if query.get(name):
            disputes = [d for d in disputes if getattr(d, name) == query[name]]
    return json_response(_list_object("/v1/disputes", disputes, query))


# --- /_test helpers -------------------------------------------------------------------------


def _seconds(params: dict[str, Any]) -> int:
    try:
        return int(params.get("seconds", 0))
    except (TypeError, ValueError):
        raise invalid("Invalid integer: seconds", param="seconds") from None


async def checkout_action(request: web.Request) -> web.Response:
    session: CheckoutSession = checkout.get_session(request.match_info["id"])
    action = request.match_info["action"]
    params = await read_params(request)
    buyer = BuyerDetails.from_params(params)
    if action == "pay_card":
        flows.pay_card(session, buyer)
    elif action == "decline_card":
        flows.decline_card(session)
    elif action == "bank_transfer":
        flows.start_bank_transfer(session, buyer, request.app[CONFIG_KEY].public_url)
    elif action == "funds_received":
        flows.funds_received(session)
    elif action == "transfer_failed":
        flows.transfer_failed(session)
    elif action == "expire_in":
        flows.set_expires_at(session, _seconds(params))
    else:
        raise web.HTTPNotFound()
    return json_response(session._export())


async def fail_refund(request: web.Request) -> web.Response:
    params = await read_params(request)
    refund = refunds.fail_refund(request.match_info["id"], params.get("failure_reason"))
    return json_response(refund._export())


async def dispute_charge(request: web.Request) -> web.Response:
    params = await read_params(request)
    dispute = refunds.dispute_charge(
        request.match_info["id"], params.get("reason"), params.get("amount")
    )
    return json_response(dispute._export())


async def dispute_payment_intent(request: web.Request) -> web.Response:
    params = await read_params(request)
    dispute = refunds.dispute_payment_intent(
        request.match_info["id"], params.get("reason"), params.get("amount")
    )
    return json_response(dispute._export())


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_post("/v1/checkout/sessions", create_session)
    router.add_get("/v1/checkout/sessions", list_sessions)
    router.add_get("/v1/checkout/sessions/{id}", retrieve_session)
    router.add_get("/v1/checkout/sessions/{id}/line_items", list_line_items)
    router.add_post("/v1/checkout/sessions/{id}/expire", expire_session)
    router.add_get("/v1/disputes", list_disputes)
    router.add_get("/v1/disputes/{id}", retrieve_dispute)
    router.add_post("/_test/checkout/sessions/{id}/{action}", checkout_action)
    router.add_post("/_test/refunds/{id}/fail", fail_refund)
    router.add_post("/_test/charges/{id}/dispute", dispute_charge)
    router.add_post("/_test/payment_intents/{id}/dispute", dispute_payment_intent)
