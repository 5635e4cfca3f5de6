"""`python -m gateway operators`: the console's operators from the command line.

`operators add NAME --role agent|supervisor` and `operators reset-password NAME` read the
password from standard input when it is not a terminal (else ask twice); `operators list`,
`disable NAME`, `enable NAME` and `reset-totp NAME` need nothing more. Every change is a line
in the console's audit (operator `cli`).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from gateway.cli.settings import load_settings
from gateway.state.connections import open_database
from gateway.state.console.audit import AuditLog
from gateway.state.console.operators import ROLES, NoSuchOperator, OperatorExists, OperatorStore
from gateway.state.errors import StoreError
from gateway.state.keyring import KeyRing


def _password() -> str | None:
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("massar-gateway: the passwords differ", file=sys.stderr)  # noqa: T201
            return None
        return password
    return sys.stdin.readline().rstrip("\r\n")


def _audit_cli(audit: AuditLog, action: str, name: str, reason: str | None) -> None:
    """The line the console's audit keeps for a change made from the command line."""
    audit.write_blocking("cli", action, reason=reason, detail=f"operator {name}")


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    engine = open_database(settings.database_url)
    store = OperatorStore(engine, key_secret=KeyRing(settings.identity_keys()))
    command: str = args.operators_command
    try:
        return _command(store, AuditLog(engine), command, args)
    except OperatorExists:
        print(f"massar-gateway: operator {args.name!r} exists already", file=sys.stderr)  # noqa: T201
        return 1
    except NoSuchOperator:
        print(f"massar-gateway: no operator {args.name!r}", file=sys.stderr)  # noqa: T201
        return 1
    except ValueError as exc:
        print(f"massar-gateway: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except StoreError as exc:
        why = type(exc.__cause__ or exc).__name__  # the driver's error, never its text
        print(  # noqa: T201
            f"massar-gateway: cannot read or write the operators ({why}); "
            "run `python -m gateway migrate` first",
            file=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()


def _command(store: OperatorStore, audit: AuditLog, command: str, args: argparse.Namespace) -> int:
    reason = getattr(args, "reason", None)
    if command == "list":
        for op in store.all():
            state = "disabled" if op.disabled_at else "active"
            second = "totp" if op.totp_secret else "-"
            print(f"{op.name}\t{op.role}\t{state}\t{second}")  # noqa: T201
        return 0
    if command in ("add", "reset-password"):
        password = _password()
        if password is None:
            return 2
        if command == "add":
            store.add(args.name, args.role, password)
            _audit_cli(audit, "operator_add", args.name, f"role {args.role}")
            print(f"massar-gateway: operator {args.name} added ({args.role})")  # noqa: T201
            return 0
        store.set_password(args.name, password)
    elif command == "disable":
        store.disable(args.name)
    elif command == "enable":
        store.enable(args.name)
    elif command == "reset-totp":
        store.set_totp(args.name, None)
    _audit_cli(audit, f"operator_{command.replace('-', '_')}", args.name, reason)
    print(f"massar-gateway: operator {args.name}: {command} done")  # noqa: T201
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`operators add|list|disable|enable|reset-password|reset-totp`."""
    p_ops = sub.add_parser("operators", help="the console's operators (hotline agents)")
    ops = p_ops.add_subparsers(dest="operators_command", required=True)
    p_add = ops.add_parser("add", help="add an operator; the password comes from standard input")
    p_add.add_argument("name")
    p_add.add_argument("--role", choices=ROLES, required=True)
    ops.add_parser("list", help="name, role, active or disabled, second factor")
    helps = {
        "disable": "disable an operator: every session of theirs ends",
        "enable": "enable a disabled operator again",
        "reset-password": "a new password from standard input: every session ends",
        "reset-totp": "forget a supervisor's TOTP: enrolled again at the next sign-in",
    }
    for command, text in helps.items():
        parser = ops.add_parser(command, help=text)
        parser.add_argument("name")
        parser.add_argument("--reason", default=None, help="kept in the audit")
    p_ops.set_defaults(func=_run)
