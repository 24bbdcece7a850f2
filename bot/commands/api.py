"""`loyalty-bot apikey create|revoke|list` and `loyalty-bot api` (the HTTP API alone)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from bot.config import load_settings
from models.partner import create_api_key, list_api_keys, revoke_api_key


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("apikey", help="create, revoke or list API keys for cash registers")
    ksub = p.add_subparsers(dest="apikey_command", required=True)
    create = ksub.add_parser("create", help="create a key and print companyId and apiKey (shown once)")
    create.add_argument("name", help="a name for the till or integration, e.g. kassa-1")
    create.set_defaults(func=apikey_create)
    revoke = ksub.add_parser("revoke", help="revoke the key with this name")
    revoke.add_argument("name")
    revoke.set_defaults(func=apikey_revoke)
    listing = ksub.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--all", action="store_true", help="include revoked keys")
    listing.set_defaults(func=apikey_list)
    p = sub.add_parser("api", help="serve the HTTP API alone (partner API, /healthz, /metrics), no bot")
    p.set_defaults(func=serve_api)


async def apikey_create(args: argparse.Namespace) -> int:
    from bot.services import build_services

    services = await build_services(load_settings())
    try:
        key = await create_api_key(services.dom, args.name)
    finally:
        await services.db.dispose()
    print(f"companyId: {key.company_id}")
    print(f"apiKey: {key.secret}")
    print("Store the key now: it is shown only once (only its hash is kept).", file=sys.stderr)
    return 0


async def apikey_revoke(args: argparse.Namespace) -> int:
    from bot.services import build_services

    services = await build_services(load_settings())
    try:
        info = await revoke_api_key(services.dom, args.name)
    finally:
        await services.db.dispose()
    print(f"revoked: {info.name} (companyId {info.company_id})")
    return 0


async def apikey_list(args: argparse.Namespace) -> int:
    from bot.services import build_services

    services = await build_services(load_settings())
    try:
        keys = await list_api_keys(services.dom, include_revoked=args.all)
    finally:
        await services.db.dispose()
    if not keys:
        print("no API keys; create one with `loyalty-bot apikey create NAME`")
    for key in keys:
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        print(f"{key.name}\tcompanyId {key.company_id}\tcreated {key.created_at:%Y-%m-%d %H:%M}\t{state}")
    return 0


PORT_WAIT_SECONDS = 10.0


async def serve_api(_args: argparse.Namespace) -> int:
    from bot.http import build_app, serve_http
    from bot.services import build_services

    settings = load_settings()
    services = await build_services(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    print(f"HTTP API on http://{settings.http_host}:{settings.http_port} (docs at /docs)", file=sys.stderr)
    try:
        # Serving HTTP is this command's whole job: a port still taken after a short while (a
        # restart's predecessor letting go) ends it with one line (bot/cli.py prints OSError).
        await serve_http(build_app(services), settings.http_host, settings.http_port, stop,
                         give_up_after=PORT_WAIT_SECONDS)
    finally:
        await services.db.dispose()
    return 0
