"""`python bench/body_limit.py`: what an oversized webhook body costs a gateway worker.

Usage: python bench/body_limit.py [--sizes-mb 10,200] [--repeat 3]

Starts a gateway (`python -m gateway serve`, one worker: the server process is the worker),
reads every `POST /channels/…` route from its OpenAPI description, and POSTs to each a body
of every size, once with `Content-Length` and once chunked (no length), `--repeat` times,
over a raw socket: the body is written 64 KiB at a time until the gateway answers or closes.
Reports, per route and mode, the statuses (None: reset before the answer could be read) and
the most written before the answer (what the kernel's socket buffers took, not what the
gateway read), and for
the worker its RSS before and after and its peak RSS (VmHWM) before and after: the growth
should be a few MB at most (issue #21: a 200 MB POST used to grow a worker by 355 MB).
Writes bench/results/body_limit.json. A benchmark, not a test: nothing here fails a build.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, clean_env, free_port, gateway_server

HOST = "127.0.0.1"
CHUNK = b"x" * 65536
ANSWER_WAIT_S = 30.0


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in kB (Linux /proc)."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


async def post(port: int, path: str, size: int, *, chunked: bool) -> tuple[int | None, int]:
    """POST `size` bytes of form to `path`; (status or None, bytes of body written)."""
    reader, writer = await asyncio.open_connection(HOST, port)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n{framing}\r\n\r\n"
    )
    writer.write(head.encode())
    answer = asyncio.ensure_future(reader.readline())
    sent = 0
    try:
        while sent < size and not answer.done():
            piece = CHUNK[: min(len(CHUNK), size - sent)]
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
            await asyncio.wait_for(writer.drain(), ANSWER_WAIT_S)
            sent += len(piece)
        if chunked and not answer.done():
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (ConnectionError, TimeoutError):
        pass  # the gateway answered and closed while we were writing
    try:
        line = await asyncio.wait_for(answer, ANSWER_WAIT_S)
    except (ConnectionError, TimeoutError):
        line = b""
    writer.close()
    parts = line.split()
    status = int(parts[1]) if len(parts) > 1 and line.startswith(b"HTTP/") else None
    return status, sent


async def attack(port: int, pid: int, routes: list[str], sizes: list[int], repeat: int) -> Any:
    rows = []
    for size in sizes:
        for path in routes:
            for chunked in (False, True):
                tries = [await post(port, path, size, chunked=chunked) for _ in range(repeat)]
                rows.append(
                    {
                        "route": path,
                        "size_mb": size // 2**20,
                        "mode": "chunked" if chunked else "content-length",
                        # None: the connection was reset before the answer could be read (a
                        # server closing with unread data sends RST, which may drop it).
                        "statuses": [status for status, _ in tries],
                        "written_kb": max(sent for _, sent in tries) // 1024,
                    }
                )
        print(f"  after the {size // 2**20} MB bodies: {memory_kb(pid)}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mb", default="10,200")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--routes", default="/channels/", help="only routes holding this")
    args = parser.parse_args()
    sizes = [int(mb) * 2**20 for mb in args.sizes_mb.split(",")]
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-body-") as tmp:
        env = {
            **clean_env(),
            "GATEWAY_ENV": "test",
            "GATEWAY_DATABASE_URL": f"sqlite:///{tmp}/gateway.db",
            "GATEWAY_VAR_DIR": tmp,
            "GATEWAY_LOG_LEVEL": "WARNING",
            "GATEWAY_EMBEDDED_SENDER": "false",
            "GATEWAY_EMBEDDED_ALERTS": "false",
        }
        with gateway_server(env, port, log=Path(tmp) / "gateway.log") as proc:
            base = f"http://{HOST}:{port}"
            paths = httpx.get(f"{base}/openapi.json", timeout=10).json()["paths"]
            routes = sorted(p for p, ops in paths.items() if "post" in ops and args.routes in p)
            for _ in range(20):  # warm the worker: its usual requests first
                httpx.get(f"{base}/healthz", timeout=10)
                httpx.post(f"{base}{routes[0]}", content=b"a=b", timeout=10)
            before = memory_kb(proc.pid)
            print(f"worker {proc.pid} before: {before}; {len(routes)} routes")
            rows = asyncio.run(attack(port, proc.pid, routes, sizes, args.repeat))
            after = memory_kb(proc.pid)
    growth = {k: (after[k] - before[k]) / 1024 for k in before}
    for row in rows:
        print(
            f"{row['route']:40} {row['size_mb']:>4} MB {row['mode']:15} "
            f"-> {row['statuses']}, at most {row['written_kb']} kB written"
        )
    print(f"worker before {before}, after {after} (kB)")
    print(
        f"RSS growth {growth['VmRSS']:+.1f} MB, peak RSS growth {growth['VmHWM']:+.1f} MB "
        f"over {len(rows) * args.repeat} oversized POSTs"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"before_kb": before, "after_kb": after, "growth_mb": growth, "posts": rows}
    (RESULTS / "body_limit.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
