"""`python -m gateway telegram set-webhook`: register the webhook with Telegram (issue #9).

Telegram then posts every update to `GATEWAY_PUBLIC_URL` + `/channels/telegram/webhook`
with `X-Telegram-Bot-Api-Secret-Token: GATEWAY_TELEGRAM_WEBHOOK_SECRET`, which the route
checks before reading anything. Only the update types the route answers are asked for.
This is the one call to Telegram outside the sender; nothing calls Telegram at start-up.
Docs: https://core.telegram.org/bots/api#setwebhook
"""

from __future__ import annotations

import argparse
import sys

import httpx

from gateway.cli.settings import load_settings
from gateway.settings import Settings

ALLOWED_UPDATES = ("message", "edited_message", "callback_query")


async def set_webhook(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> str:
    """Register the webhook; the URL Telegram will call (raises `TelegramError` on refusal)."""
    from telegram import Bot

    from gateway.channels.telegram import ROUTE
    from gateway.outbox.senders.telegram import HttpxRequest

    token, secret = settings.telegram_bot_token, settings.telegram_webhook_secret
    if token is None or secret is None:
        raise ValueError(
            "GATEWAY_TELEGRAM_BOT_TOKEN and GATEWAY_TELEGRAM_WEBHOOK_SECRET are needed"
        )
    url = settings.public_url + ROUTE
    async with httpx.AsyncClient(transport=transport) as http:
        request = HttpxRequest(http)
        bot = Bot(
            token.get_secret_value(),
            base_url=settings.telegram_api_url,
            request=request,
            get_updates_request=request,
        )
        await bot.set_webhook(
            url=url,
            secret_token=secret.get_secret_value(),
            allowed_updates=list(ALLOWED_UPDATES),
        )
    return url


def _set_webhook(args: argparse.Namespace) -> int:
    import anyio
    from telegram.error import TelegramError

    settings = load_settings()
    try:
        url = anyio.run(lambda: set_webhook(settings))
    except (ValueError, TelegramError) as exc:
        print(f"massar-gateway: {type(exc).__name__}: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    print(f"massar-gateway: Telegram will post updates to {url}")  # noqa: T201
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_telegram = sub.add_parser("telegram", help="Telegram bot administration")
    telegram_sub = p_telegram.add_subparsers(dest="telegram_command", required=True)
    p_set = telegram_sub.add_parser(
        "set-webhook", help="register GATEWAY_PUBLIC_URL's webhook, with the secret token"
    )
    p_set.set_defaults(func=_set_webhook)
