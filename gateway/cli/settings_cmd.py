"""`python -m gateway settings --template`: every `GATEWAY_*` variable with its one-line help
and default, as an environment file (what `deploy/gateway.env.example` holds)."""

from __future__ import annotations

import argparse
import sys


def settings(args: argparse.Namespace) -> int:
    from gateway.settings.template import template

    sys.stdout.write(template())
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_settings = sub.add_parser(
        "settings", help="print every GATEWAY_* variable with its help and default"
    )
    what = p_settings.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--template",
        action="store_true",
        help="as an environment file, every line commented out (deploy/gateway.env.example)",
    )
    p_settings.set_defaults(func=settings)
