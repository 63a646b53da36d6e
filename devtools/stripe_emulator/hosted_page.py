"""The emulator's stand-in for Stripe's hosted Checkout page (`/checkout/pay/{id}`).

A person clicks through it in `make run`; tests drive the same transitions through
`/_test/checkout/sessions/{id}/...`. No API key is needed, as on checkout.stripe.com.

Times: an open session shows when it expires. Stripe's own page knows nothing of the
merchant's time zone, so the app puts the webinar's IANA zone in the session's metadata
(`time_zone`) and this page shows the expiry in that zone with its abbreviation, as the
app's pages do ("Fri 15 Jan 2027, 15:31 CET"); without a (known) zone it says UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from localstripe.errors import UserError
from localstripe.resources import store

from devtools.stripe_emulator import checkout
from devtools.stripe_emulator import checkout_flows as flows
from devtools.stripe_emulator.checkout import CheckoutSession
from devtools.stripe_emulator.checkout_flows import BuyerDetails
from devtools.stripe_emulator.common import CONFIG_KEY, format_amount

_LABELS = {
    "iban": "IBAN",
    "bic": "BIC",
    "aba": "ABA",
    "routing_number": "Routing number",
    "account_number": "Account number",
    "sort_code": "Sort code",
    "account_holder_name": "Account holder",
    "bank_name": "Bank",
    "country": "Country",
}
TAX_ID_TYPES = ("eu_vat", "gb_vat", "us_ein", "ch_vat", "ca_bn", "au_abn", "unknown")

_CSS = """
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: #1a1f36; background: #f6f8fa; }
.banner { background: #fff4d6; color: #6b4e00; padding: .5rem 1rem; text-align: center;
          font-size: 13px; border-bottom: 1px solid #f0dc9c; }
main { max-width: 920px; margin: 2rem auto; display: grid; gap: 2rem;
       grid-template-columns: 1fr 1fr; padding: 0 1rem; }
@media (max-width: 760px) { main { grid-template-columns: 1fr; } }
section { background: #fff; border-radius: 10px; padding: 1.5rem;
          box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.muted { color: #6a7383; margin: 0; }
.total { font-size: 2rem; font-weight: 600; margin: .25rem 0 1rem; }
ul.items { list-style: none; padding: 0; margin: 0 0 1rem; border-top: 1px solid #e3e8ee; }
ul.items li { display: flex; justify-content: space-between; gap: 1rem;
              padding: .6rem 0; border-bottom: 1px solid #e3e8ee; }
.status { font-size: 13px; color: #6a7383; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; background: #e3e8ee;
         font-weight: 600; }
h2 { font-size: 15px; margin: 1.25rem 0 .5rem; }
h2:first-child { margin-top: 0; }
label { display: block; font-size: 13px; color: #3c4257; margin-bottom: .6rem; }
input, select { display: block; width: 100%; margin-top: .2rem; padding: .5rem .6rem;
                font: inherit; border: 1px solid #d5dbe1; border-radius: 6px; }
.row { display: grid; grid-template-columns: 1fr 1fr; gap: .75rem; }
.card { font-family: ui-monospace, monospace; background: #f6f8fa; padding: .5rem .6rem;
        border-radius: 6px; }
button { display: block; width: 100%; margin-top: .75rem; padding: .7rem; font: inherit;
         font-weight: 600; border: 0; border-radius: 6px; background: #635bff; color: #fff;
         cursor: pointer; }
button.secondary { background: #fff; color: #3c4257; border: 1px solid #d5dbe1; }
button.danger { background: #df1b41; }
.error { background: #fde8ec; color: #a4122f; padding: .6rem .8rem; border-radius: 6px; }
.ok { background: #e6f6ec; color: #0b6b33; padding: .6rem .8rem; border-radius: 6px; }
.controls { margin-top: 1.25rem; border: 2px dashed #f0b429; border-radius: 8px;
            padding: .75rem 1rem; background: #fffbeb; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0; }
dt { color: #6a7383; } dd { margin: 0; font-family: ui-monospace, monospace; }
a { color: #635bff; }
"""


def _success_url(session: CheckoutSession) -> str | None:
    if not session.success_url:
        return None
    return str(session.success_url).replace("{CHECKOUT_SESSION_ID}", session.id)


def format_time(timestamp: int, zone_name: str | None) -> str:
    """A Unix time in `zone_name` (UTC when missing or unknown), with the zone's
    abbreviation; zones without letters for it show their offset ("UTC+4")."""
    try:
        zone = ZoneInfo(zone_name) if zone_name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    local = datetime.fromtimestamp(timestamp, tz=UTC).astimezone(zone)
    abbreviation = local.tzname() or "UTC"
    if abbreviation[0] in "+-":
        hours, minutes = abbreviation[1:3].lstrip("0") or "0", abbreviation[3:5]
        abbreviation = f"UTC{abbreviation[0]}{hours}" + (
            f":{minutes}" if minutes.strip("0") else ""
        )
    return f"{local:%a %d %b %Y, %H:%M} {abbreviation}"


def _expiry_html(session: CheckoutSession) -> str:
    if session.status != "open" or not session.expires_at:
        return ""
    when = format_time(session.expires_at, (session.metadata or {}).get("time_zone"))
    return f'<p class="status" id="expires">Complete this page by {escape(when)}.</p>'


def _link(url: str | None, text: str) -> str:
    if not url:
        return ""
    return f'<p><a href="{escape(url)}">{escape(text)}</a></p>'


def _items_html(session: CheckoutSession) -> str:
    rows = []
    for item in session._line_items:
        quantity = f" x {item['quantity']}" if item["quantity"] > 1 else ""
        about = item["_product"]["description"]
        detail = f'<br><small class="muted">{escape(about)}</small>' if about else ""
        rows.append(
            f"<li><span>{escape(item['description'])}{quantity}{detail}</span>"
            f"<span>{escape(format_amount(item['amount_total'], item['currency']))}</span></li>"
        )
    return "".join(rows)


def _input(
    label: str,
    name: str,
    value: str | None,
    *,
    required: bool = False,
    kind: str = "text",
    extra: str = "",
) -> str:
    flags = " required" if required else ""
    return (
        f'<label>{escape(label)}<input type="{kind}" name="{name}" '
        f'value="{escape(value or "")}"{flags} {extra}></label>'
    )


def _on_file(address: dict[str, Any]) -> str:
    """A stored address on one line, as Stripe shows what it will not ask for again."""
    parts = [address.get("line1"), address.get("line2")]
    parts.append(" ".join(p for p in (address.get("postal_code"), address.get("city")) if p))
    parts.append(address.get("country"))
    return ", ".join(p for p in parts if p)


def _payment_form(session: CheckoutSession) -> str:
    customer = store.get(f"customer:{session.customer}") if session.customer else None
    email = session.customer_email or getattr(customer, "email", None)
    address: dict[str, Any] = getattr(customer, "address", None) or {}
    need_address = session.billing_address_collection == "required"
    # As on Stripe: an address the Customer already has is not asked for again, unless
    # the session requires the buyer to (re)enter a full billing address.
    address_on_file = bool(address.get("line1") and address.get("country")) and not need_address
    tax_ids = list(getattr(getattr(customer, "tax_ids", None), "_list", []))
    action = f"/checkout/pay/{escape(session.id)}"
    parts = [
        f'<form method="post" action="{action}/card">',
        "<h2>Contact</h2>",
        _input("Email", "email", email, required=True, kind="email"),
        "<h2>Billing details</h2>",
        _input("Name", "name", getattr(customer, "name", None), required=True),
    ]
    if address_on_file:
        parts.append(f'<p class="muted">Billing address on file: {escape(_on_file(address))}</p>')
    else:
        parts += [
            _input("Address", "address_line1", address.get("line1"), required=need_address),
            '<div class="row">',
            _input("City", "address_city", address.get("city"), required=need_address),
            _input(
                "Postal code",
                "address_postal_code",
                address.get("postal_code"),
                required=need_address,
            ),
            "</div>",
            _input(
                "Country (2 letters)",
                "address_country",
                address.get("country"),
                required=True,
                extra='maxlength="2" pattern="[A-Za-z]{2}" placeholder="US"',
            ),
        ]
    if session.tax_id_collection.get("enabled") and tax_ids:
        values = ", ".join(str(t.value) for t in tax_ids)
        parts.append(f'<p class="muted">Tax ID on file: {escape(values)}</p>')
    elif session.tax_id_collection.get("enabled"):
        options = "".join(f'<option value="{t}">{t}</option>' for t in TAX_ID_TYPES)
        parts += [
            '<div class="row">',
            f'<label>Tax ID type<select name="tax_id_type">{options}</select></label>',
            _input("Tax ID (optional)", "tax_id", None, extra='placeholder="DE123456789"'),
            "</div>",
        ]
    if "card" in session.payment_method_types:
        parts += [
            "<h2>Card</h2>",
            '<p class="card">4242 4242 4242 4242 · 12/34 · 123 '
            '<span class="muted">(test card)</span></p>',
            f'<button type="submit">Pay by card · '
            f"{escape(format_amount(session.amount_total, session.currency))}</button>",
            f'<button type="submit" class="secondary" formaction="{action}/decline" '
            "formnovalidate>Pay by card — declined (test card 4000 0000 0000 0002)</button>",
        ]
    if "customer_balance" in session.payment_method_types:
        parts.append(
            f'<button type="submit" class="secondary" formaction="{action}/'
            'bank_transfer">Pay by bank transfer</button>'
        )
    parts.append("</form>")
    parts.append(_link(session.cancel_url, "← Cancel and return"))
    return "".join(parts)


def _instructions_html(pi: Any) -> str:
    info = pi.next_action["display_bank_transfer_instructions"]
    rows = [
        ("Amount", format_amount(info["amount_remaining"], info["currency"])),
        ("Reference", info["reference"]),
    ]
    for address in info["financial_addresses"]:
        for key, value in address[address["type"]].items():
            rows.append((_LABELS.get(key, key.replace("_", " ").capitalize()), str(value)))
    cells = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f"<h2>Bank transfer instructions</h2><dl>{cells}</dl>"


def _controls_html(session: CheckoutSession) -> str:
    action = f"/checkout/pay/{escape(session.id)}"
    return (
        '<div class="controls"><p><strong>Emulator controls</strong> — they stand in for the '
        "buyer's bank; Stripe's real page has no such buttons.</p>"
        f'<form method="post" action="{action}/funds_received"><button type="submit">'
        "Funds received</button></form>"
        f'<form method="post" action="{action}/transfer_failed"><button type="submit" '
        'class="danger">Transfer failed</button></form></div>'
    )


def _body_html(session: CheckoutSession, error: str | None) -> str:
    error_html = f'<p class="error">{escape(error)}</p>' if error else ""
    if session.status == "open":
        return error_html + _payment_form(session)
    if session.status == "expired":
        return (
            error_html
            + '<p class="error">This checkout session has expired.</p>'
            + _link(session.cancel_url, "← Return to merchant")
        )
    back = _link(_success_url(session), "Return to merchant →")
    if session.payment_status == "paid":
        return error_html + '<p class="ok">Payment complete. Thank you!</p>' + back
    pi = flows.awaiting_transfer(session)
    if pi is not None:
        return (
            error_html
            + '<p class="muted">Send the transfer below to finish paying.</p>'
            + _instructions_html(pi)
            + _controls_html(session)
            + back
        )
    return error_html + '<p class="error">The bank transfer failed.</p>' + back


def render(session: CheckoutSession, error: str | None = None) -> str:
    amount = escape(format_amount(session.amount_total, session.currency))
    status = f"{session.status} · {session.payment_status}"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Pay {amount} · Stripe emulator</title><style>{_CSS}</style></head><body>"
        '<div class="banner">Stripe emulator · test mode · no real money moves. This page '
        "stands in for Stripe's hosted Checkout.</div><main>"
        f'<section><p class="muted">Pay</p><p class="total">{amount}</p>'
        f'<ul class="items">{_items_html(session)}</ul>'
        f'<p class="status">Session <span class="badge">{escape(status)}</span></p>'
        f"{_expiry_html(session)}</section>"
        f"<section>{_body_html(session, error)}</section></main></body></html>"
    )


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text, status=status, content_type="text/html", headers={"Cache-Control": "no-store"}
    )


def _lookup(request: web.Request) -> CheckoutSession | web.Response:
    try:
        return checkout.get_session(request.match_info["id"])
    except UserError:
        return _html("<!doctype html><title>Not found</title><p>No such checkout session.</p>", 404)


async def show_page(request: web.Request) -> web.Response:
    session = _lookup(request)
    if isinstance(session, web.Response):
        return session
    error = "Your card was declined." if request.query.get("error") == "declined" else None
    return _html(render(session, error))


async def submit(request: web.Request) -> web.Response:
    session = _lookup(request)
    if isinstance(session, web.Response):
        return session
    action = request.match_info["action"]
    buyer = BuyerDetails.from_params(dict(await request.post()))
    page = f"/checkout/pay/{session.id}"
    try:
        if action == "card":
            flows.pay_card(session, buyer)
            raise web.HTTPSeeOther(location=_success_url(session) or page)
        if action == "decline":
            flows.decline_card(session)
            raise web.HTTPSeeOther(location=f"{page}?error=declined")
        if action == "bank_transfer":
            flows.start_bank_transfer(session, buyer, request.app[CONFIG_KEY].public_url)
        elif action == "funds_received":
            flows.funds_received(session)
        elif action == "transfer_failed":
            flows.transfer_failed(session)
        else:
            raise web.HTTPNotFound()
    except UserError as exc:
        message = str(exc.body.get("error", {}).get("message", "Not allowed."))
        return _html(render(session, message), 400)
    raise web.HTTPSeeOther(location=page)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/checkout/pay/{id}", show_page)
    app.router.add_post("/checkout/pay/{id}/{action}", submit)
