"""`python -m gateway operators` on a database it cannot use (never migrated, or nothing
listening): one line naming the driver's error type and `migrate`, exit 1, no traceback, no
part of the URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("database_url", "error"),
    [
        ("sqlite:///{tmp}/never-migrated.db", "OperationalError"),
        ("postgresql+psycopg://gateway:secret@127.0.0.1:1/gateway", "OperationalError"),
    ],
    ids=["never-migrated", "nothing-listens"],
)
def test_operators_on_a_database_it_cannot_use_is_one_line_and_exit_1(
    tmp_path: Path, database_url: str, error: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "SANDBOX_"))}
    env["GATEWAY_DATABASE_URL"] = database_url.format(tmp=tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "operators", "list"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        f"massar-gateway: cannot read or write the operators ({error}); "
        "run `python -m gateway migrate` first"
    ]
    assert "secret" not in result.stderr
