"""`python -m gateway`: run the gateway, migrate its database, or run the whole demo (sandbox
backend + gateway)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from gateway.cli import (
    alerts,
    demo,
    migrate,
    operators,
    rekey,
    secret,
    serve,
    settings_cmd,
    simulate,
    telegram,
    understand,
    voice,
    whatsapp,
    worker,
)

# In the order `--help` lists them.
COMMANDS = (
    serve,
    migrate,
    secret,
    settings_cmd,  # settings --template: the environment file's template
    demo,
    worker,
    simulate,
    understand,  # unmatched, understand
    voice,  # voice prompts
    alerts,
    telegram,  # telegram set-webhook (issue #9)
    whatsapp,  # whatsapp templates (issue #26)
    operators,  # the console's accounts (issue #16)
    rekey,  # after an identity key rotation (issue #25)
)


def describe(parser: argparse.ArgumentParser) -> None:
    """Give every subcommand's `--help` its one-line help as description (else it is empty)."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for choice in action._choices_actions:
            child = action.choices[choice.dest]
            if not child.description:
                child.description = choice.help
            describe(child)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("massar-gateway")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__)
    parser.add_argument("--version", action="version", version=f"massar-gateway {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    describe(parser)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result
