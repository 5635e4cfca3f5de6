"""A real three-node Redis Cluster on loopback, for the tests of the key layout.

Three `redis-server --cluster-enabled yes` processes on free ports, joined by
`redis-cli --cluster create` (no replicas), started once per module and always stopped.
Skipped, with the reason, when `redis-server` or `redis-cli` is not installed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

NODES = 3
READY_WITHIN_S = 30.0


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port(taken: list[int]) -> int:
    """A free port whose cluster bus port (port + 10000) is free and valid too."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port < 55000 and port not in taken and _bindable(port + 10000):
            return port


def _cli(cli: str, port: int, *args: str) -> str:
    return subprocess.run(  # noqa: S603 - the local redis-cli, fixed arguments
        [cli, "-h", "127.0.0.1", "-p", str(port), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout


def _wait(predicate: object, what: str) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        try:
            if predicate():  # type: ignore[operator]
                return
        except (subprocess.SubprocessError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the Redis Cluster test setup timed out waiting for {what}")


@pytest.fixture(scope="module")
def cluster_ports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[int]]:
    """The ports of a fresh three-master Redis Cluster on 127.0.0.1."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None:
        pytest.skip("Redis Cluster tests need redis-server and redis-cli (apt install redis)")
    workdir: Path = tmp_path_factory.mktemp("redis-cluster")
    ports: list[int] = []
    for _ in range(NODES):
        ports.append(_free_port(ports))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            procs.append(
                subprocess.Popen(  # noqa: S603 - the local redis-server, fixed arguments
                    [
                        server,
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        str(workdir / f"nodes-{port}.conf"),
                        "--dir",
                        str(workdir),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--daemonize",
                        "no",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port in ports:
            _wait(lambda port=port: "PONG" in _cli(cli, port, "ping"), f"node {port}")
        subprocess.run(  # noqa: S603
            [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        for port in ports:
            _wait(
                lambda port=port: "cluster_state:ok" in _cli(cli, port, "cluster", "info"),
                f"cluster_state:ok on {port}",
            )
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
