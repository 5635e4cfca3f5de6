"""`python -m sandbox seed|serve|accounts`."""

from __future__ import annotations

import argparse
import logging
import sys

from sandbox import db, demo
from sandbox.settings import SandboxSettings

log = logging.getLogger("sandbox")


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def cmd_seed(settings: SandboxSettings, students: int) -> int:
    from sandbox.seed import seed_database

    _ensure_dir(settings.database_url)
    engine = db.make_engine(settings.database_url, schema=settings.db_schema)
    counts = seed_database(
        engine,
        students=students,
        seed=settings.seed,
        now=settings.now,
        schema=settings.db_schema,
        progress=_out,
    )
    engine.dispose()
    _out(", ".join(f"{k}={v:,}" for k, v in sorted(counts.items())))
    return 0


def _ensure_dir(url: str) -> None:
    from pathlib import Path

    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def cmd_serve(settings: SandboxSettings) -> int:
    import uvicorn

    from sandbox.app import create_app

    _ensure_dir(settings.database_url)
    engine = db.make_engine(settings.database_url, schema=settings.db_schema)
    seeded = db.is_seeded(engine)
    engine.dispose()
    if not seeded:
        _out(f"empty database: seeding {settings.students:,} students first")
        cmd_seed(settings, settings.students)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level="info",
    )
    return 0


ACCOUNTS = """Demo accounts (fixed, whatever the seed size). Ids are opaque: find the stu_ ids with
POST /api/v1/guardians/lookup {{"phone": ...}}, then send X-On-Behalf-Of: <guardian id>.

guardian phone   guardian id     name          children
+212600000001    {g1}  Khadija (ar)  Z990000001 (mother), Z990000002 (mother)
+212700000001    {g2}  Rachid (fr)   Z990000001 (father), Z990000002 (father)
+212600000002    {g3}  Naima (fr)    Z990000003 (mother)
+212600000099    {g4}  Said (ar)     none: lookup answers 200 with an empty students list

massar code  student id      first name  born        level    class
Z990000001   {s1}  Youssef     2018-09-14  2AP      2AP-1
Z990000002   {s2}  Salma       2008-05-02  2BAC-PC  2BAC-PCF-1
Z990000003   {s3}  Adam        2012-03-14  2AC      2AC-1
All three: semester 1 of 2025-2026 published (semester 2 not yet), 2024-2025 results published.
Recent unjustified absences: Z990000001 on 2026-05-12 and 2026-05-18;
Z990000002 on 2026-05-11 and 2026-05-19 (and an unjustified late arrival on 2026-05-14).

first-grade application  child born  status        guardian
PRE-2026-0000001         2020-06-01  under_review  +212600000001
PRE-2026-0000002         2020-02-20  approved      +212600000002

Tokens: SANDBOX_API_TOKEN (default sandbox-token), SANDBOX_ADMIN_TOKEN (default sandbox-admin)."""


def cmd_accounts() -> int:
    from sandbox import ids

    g = {f"g{x.id}": ids.encode("gdn", x.id) for x in demo.GUARDIANS}
    s = {f"s{x.id}": ids.encode("stu", x.id) for x in demo.STUDENTS}
    _out(ACCOUNTS.format(**g, **s))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Massar sandbox backend")
    sub = parser.add_subparsers(dest="command", required=True)
    p_seed = sub.add_parser("seed", help="drop, create and fill the database")
    p_seed.add_argument("--students", type=int, default=3000)
    p_seed.add_argument("--database-url", default=None)
    p_seed.add_argument("--seed", type=int, default=None)
    p_serve = sub.add_parser("serve", help="run the API (seeds first if the database is empty)")
    p_serve.add_argument("--host", default=None)
    p_serve.add_argument("--port", type=int, default=None)
    p_serve.add_argument("--database-url", default=None)
    sub.add_parser("accounts", help="list the fixed demo accounts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    overrides = {
        k: v
        for k, v in vars(args).items()
        if k in ("database_url", "seed", "host", "port") and v is not None
    }
    if args.command == "accounts":
        return cmd_accounts()
    settings = SandboxSettings(**overrides)
    if args.command == "seed":
        if args.students < 0:
            parser.error("--students must be >= 0")
        return cmd_seed(settings, args.students)
    return cmd_serve(settings)
