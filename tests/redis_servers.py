"""Throw-away `redis-server` processes on loopback, each configured as a test needs it
(persistence, eviction policy, CONFIG refused as a managed Redis does, a password).

Skipped, saying why, when `redis-server` is not installed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

READY_WITHIN_S = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def redis_server(
    workdir: Path,
    *,
    appendonly: str = "no",
    save: str = "",
    policy: str = "noeviction",
    password: str | None = None,
    config_refused: str | None = None,
) -> Iterator[str]:
    """A fresh server; yields its URL (`redis://[:password@]127.0.0.1:PORT/0`).

    `config_refused`: "renamed" (CONFIG renamed away: "unknown command") or "acl" (the
    default user may not run it: NOPERM), as managed Redis services do.
    """
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("needs redis-server (apt install redis-server)")
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    args = [
        server,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(workdir),
        "--daemonize", "no",
        "--appendonly", appendonly,
        "--save", save,
        "--maxmemory-policy", policy,
    ]  # fmt: skip
    if config_refused == "renamed":
        args += ["--rename-command", "CONFIG", ""]
    elif config_refused == "acl":
        secret = [f">{password}"] if password else ["nopass"]
        args += ["--user", "default", "on", *secret, "~*", "&*", "+@all", "-config"]
    if password is not None and config_refused != "acl":
        args += ["--requirepass", password]
    proc = subprocess.Popen(  # noqa: S603 - the local redis-server, fixed arguments
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    auth = f":{password}@" if password else ""
    url = f"redis://{auth}127.0.0.1:{port}/0"
    try:
        _wait_ready(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    client = redis.Redis.from_url(url, socket_timeout=1)
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {proc.returncode}")
            try:
                if client.ping():
                    return
            except redis.RedisError:
                pass
            time.sleep(0.05)
    finally:
        client.close()
    raise RuntimeError("redis-server did not answer in time")
