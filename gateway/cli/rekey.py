"""`python -m gateway rekey`: after an identity key rotation, move every stored hash to the
newest key (gateway/state/rekey.py); `--status` says where it stands. Batched, resumable (a
stopped run continues where it stood) and idempotent (a second run does nothing)."""

from __future__ import annotations

import argparse
import sys

from gateway.cli.settings import load_settings


def rekey(args: argparse.Namespace) -> int:
    from gateway.state.connections import open_database
    from gateway.state.identity import KeyMismatch, checked_keyring, registry
    from gateway.state.migrate import SchemaOutdated
    from gateway.state.rekey import left_behind
    from gateway.state.rekey import rekey as run_rekey

    settings = load_settings()
    engine = open_database(settings.database_url)
    try:
        ring = checked_keyring(engine, settings.identity_keys())
        if args.status:
            with engine.connect() as conn:
                rows = registry(conn)
            for gen, row in sorted(rows.items()):
                state = f"rekeyed {row.rekeyed_at:%Y-%m-%d %H:%M}" if row.rekeyed_at else "pending"
                print(f"generation {gen}: fingerprint {row.fingerprint[:8]}, {state}")  # noqa: T201
            left = {name: n for name, n in left_behind(engine, ring.gen).items() if n}
            print(f"rows under older generations: {left or 'none'}")  # noqa: T201
            return 0
        report = run_rekey(engine, ring, batch=args.batch, max_batches=args.max_batches)
    except (KeyMismatch, SchemaOutdated) as exc:
        print(f"massar-gateway: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    finally:
        engine.dispose()
    if report.already:
        print(f"massar-gateway: generation {ring.gen}: every row rekeyed already")  # noqa: T201
        return 0
    moved = ", ".join(f"{name} {n}" for name, n in report.moved.items())
    merged = sum(report.merged.values())
    print(  # noqa: T201
        f"massar-gateway: generation {ring.gen}: moved {moved}; merged twins {merged}; "
        f"TOTP secrets sealed again {report.resealed}; "
        + ("done" if report.done else "stopped: run it again to continue")
    )
    return 0 if report.done else 3


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "rekey", help="move every stored hash to the newest identity key (after a rotation)"
    )
    p.add_argument("--batch", type=int, default=500, help="rows per transaction (default 500)")
    p.add_argument(
        "--max-batches", type=int, default=None, help="stop after this many (resume later)"
    )
    p.add_argument(
        "--status", action="store_true", help="say where the rekey stands, change nothing"
    )
    p.set_defaults(func=rekey)
