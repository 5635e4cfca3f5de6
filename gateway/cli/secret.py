"""`python -m gateway secret`: a fresh secret for a setting the deployment chooses."""

from __future__ import annotations

import argparse

from gateway.settings.secrets import new_secret


def secret(args: argparse.Namespace) -> int:
    """Print a fresh secret (256 random bits, URL-safe) for a setting the deployment chooses."""
    print(new_secret())  # noqa: T201
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_secret = sub.add_parser(
        "secret",
        help="print a fresh secret for GATEWAY_ADMIN_TOKEN, GATEWAY_IDENTITY_KEY, the tokens "
        "in Kannel's and the aggregators' URLs, Telegram's webhook secret…",
    )
    p_secret.set_defaults(func=secret)
