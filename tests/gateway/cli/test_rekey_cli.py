"""`python -m gateway rekey` and the start-up refusal of identity keys that do not match the
database (issue #25 item 5), as subprocesses: one line on stderr, never a key."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest

from gateway.state.bindings import SqlBindings
from gateway.state.connections import open_database
from gateway.state.identity import open_keyring
from gateway.state.migrate import upgrade

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[3]
OLD = "cli-rotation-old-key-0123456789abcdef"
NEW = "cli-rotation-new-key-fedcba9876543210"
PHONE = "+212600000001"


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "SANDBOX_"))}
    clean.update(GATEWAY_DATABASE_URL=f"sqlite:///{tmp_path}/gateway.db", **env)
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "gateway", *args],
        cwd=ROOT,
        env={**clean, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_rekey_refuses_a_missing_previous_key_then_moves_every_row_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/gateway.db"
    upgrade(url)
    engine = open_database(url)
    ring = open_keyring(engine, [OLD.encode()])
    at = datetime(2026, 12, 1, tzinfo=UTC)
    anyio.run(SqlBindings(engine, key_secret=ring).bind, PHONE, "stu_1", at)

    missing = run(tmp_path, "rekey", GATEWAY_IDENTITY_KEY=NEW)
    assert missing.returncode == 2
    assert len(missing.stderr.strip().splitlines()) == 1, missing.stderr
    assert "fingerprint mismatch" in missing.stderr
    assert "GATEWAY_IDENTITY_KEY_PREVIOUS" in missing.stderr
    assert OLD not in missing.stderr + missing.stdout
    assert NEW not in missing.stderr + missing.stdout

    rotated = {"GATEWAY_IDENTITY_KEY": NEW, "GATEWAY_IDENTITY_KEY_PREVIOUS": OLD}
    done = run(tmp_path, "rekey", **rotated)
    assert done.returncode == 0, done.stderr
    assert "phone_binding 1" in done.stdout
    assert "done" in done.stdout
    again = run(tmp_path, "rekey", **rotated)
    assert again.returncode == 0
    assert "rekeyed already" in again.stdout
    status = run(tmp_path, "rekey", "--status", **rotated)
    assert "generation 2" in status.stdout
    assert "rows under older generations: none" in status.stdout

    settled = open_keyring(engine, [OLD.encode(), NEW.encode()])
    assert anyio.run(SqlBindings(engine, key_secret=settled).bound_since, PHONE) == {"stu_1": at}
    engine.dispose()


def test_a_worker_with_the_wrong_previous_key_refuses_to_start(
    tmp_path: Path, redis_url: str | None
) -> None:
    if redis_url is None:
        pytest.skip("a worker needs a real Redis (TEST_REDIS_URL)")
    url = f"sqlite:///{tmp_path}/gateway.db"
    upgrade(url)
    engine = open_database(url)
    open_keyring(engine, [OLD.encode()])
    engine.dispose()
    wrong = run(
        tmp_path,
        "worker",
        GATEWAY_REDIS_URL=redis_url,
        GATEWAY_IDENTITY_KEY=NEW,
        GATEWAY_IDENTITY_KEY_PREVIOUS="not-the-old-key-at-all-0123456789",
    )
    assert wrong.returncode != 0
    lines = [line for line in wrong.stderr.splitlines() if line.startswith("massar-gateway:")]
    assert len(lines) == 1, wrong.stderr
    assert "fingerprint mismatch: key 1 of" in lines[0]
