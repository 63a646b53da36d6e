"""CLI of the local Stripe emulator (dev/test only): `python -m devtools.stripe_emulator`."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import signal
import sys

from aiohttp import web

from devtools.stripe_emulator.common import EmulatorConfig

logger = logging.getLogger("stripe_emulator")


def _loopback_host(value: str) -> str:
    if value == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an IP address") from None
    if not address.is_loopback:
        # The emulator accepts any sk_test key and has unauthenticated /_test routes.
        raise argparse.ArgumentTypeError(f"{value} is not a loopback address")
    return value


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port")
    return port


def _non_negative(value: str) -> float:
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return number


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.stripe_emulator",
        description="Local Stripe emulator (localstripe + Checkout shim) for make run and "
        "tests. Not Stripe.",
    )
    parser.add_argument(
        "--port", type=_port, default=12111, help="TCP port (default 12111; 0 picks a free one)"
    )
    parser.add_argument(
        "--host",
        type=_loopback_host,
        default="127.0.0.1",
        help="loopback address to bind (default 127.0.0.1)",
    )
    parser.add_argument("--webhook-url", help="endpoint that receives every event")
    parser.add_argument("--webhook-secret", help="signing secret for --webhook-url (whsec_...)")
    parser.add_argument(
        "--webhook-delay",
        type=_non_negative,
        default=0.2,
        help="seconds between an event and its delivery (default 0.2)",
    )
    parser.add_argument(
        "--public-url", help="base URL for hosted-page links (default http://HOST:PORT)"
    )
    # Tests only: lets `expires_at` be seconds away instead of Stripe's 30 minutes.
    parser.add_argument("--min-expiry-seconds", type=int, default=30 * 60, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if bool(args.webhook_url) != bool(args.webhook_secret):
        parser.error("--webhook-url and --webhook-secret go together")
    if args.webhook_url and not args.webhook_url.startswith(("http://", "https://")):
        parser.error("--webhook-url must be an http(s) URL")
    return args


def _base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def serve(args: argparse.Namespace) -> None:
    # Imported here so `--help` and argument errors do not pay for localstripe's import.
    from devtools.stripe_emulator.app import build_app
    from devtools.stripe_emulator.webhooks import register_endpoint

    config = EmulatorConfig(
        public_url=(args.public_url or "").rstrip("/"),
        webhook_delay=args.webhook_delay,
        min_expiry_seconds=args.min_expiry_seconds,
    )
    app = build_app(config)
    if args.webhook_url:
        register_endpoint("cli", args.webhook_url, args.webhook_secret)

    runner = web.AppRunner(app, access_log=logging.getLogger("aiohttp.access"))
    await runner.setup()
    site = web.TCPSite(runner, host=args.host, port=args.port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    port = runner.addresses[0][1]
    base_url = _base_url(args.host, port)
    if not config.public_url:
        config.public_url = base_url

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"stripe-emulator listening on {base_url}", flush=True)
    try:
        await stop.wait()
    finally:
        logger.info("stopping")
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        asyncio.run(serve(args))
    except OSError as exc:
        print(f"stripe-emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0
