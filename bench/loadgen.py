"""An open-loop HTTP/1.1 load generator: requests leave at a fixed rate, whatever the answers do.

wrk is closed-loop (a connection sends its next request when the last one is answered), so a
slow server is offered less load and its latency looks better than what a fixed arrival rate
would see. Here request i is due at `start + i / rate`; its latency runs from that due time
(not from when a connection became free) to the last byte of the answer, as wrk2 counts it.
Connections are kept alive and reused, opened on demand up to `max_connections`.

Loopback only: the host must be 127.0.0.1 or localhost.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

RequestFactory = Callable[[int], bytes]
"""Builds the raw bytes of request number i (request line, headers, body)."""

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(slots=True)
class Sample:
    index: int
    latency_s: float  # from the due time to the answer's last byte; inf when none came
    status: int  # 0: no answer (timeout or connection error)
    body: bytes = b""


@dataclass(slots=True)
class LoadResult:
    offered_rate: float
    duration_s: float
    samples: list[Sample] = field(default_factory=list)
    behind_s: float = 0.0  # how late the generator itself fell behind its schedule, at most
    timeout_s: float = math.inf  # a request with no answer counts as this late

    @property
    def answered(self) -> list[Sample]:
        return [s for s in self.samples if s.status]

    @property
    def achieved_rate(self) -> float:
        return len(self.answered) / self.duration_s if self.duration_s > 0 else 0.0

    def percentile_ms(self, pct: float, *, only_ok: bool = False) -> float | None:
        """Latency percentile over all requests; a missing answer counts as `timeout_s` late,
        so a percentile that lands on one is a lower bound (`censored`)."""
        pool = [s for s in self.samples if s.status == 200] if only_ok else self.samples
        values = sorted(s.latency_s for s in pool)
        if not values:
            return None
        rank = max(0, math.ceil(pct / 100 * len(values)) - 1)
        value = min(values[rank], self.timeout_s)
        return None if math.isinf(value) else round(value * 1000, 2)

    def censored(self, pct: float) -> bool:
        """True when the `pct` percentile is a request that got no answer (a lower bound)."""
        values = sorted(s.latency_s for s in self.samples)
        return bool(values) and math.isinf(values[max(0, math.ceil(pct / 100 * len(values)) - 1)])

    def within(self, seconds: float) -> float:
        """Share of the requests answered (any status) within `seconds` of their due time."""
        if not self.samples:
            return 0.0
        return sum(1 for s in self.samples if s.status and s.latency_s <= seconds) / len(
            self.samples
        )

    def statuses(self) -> dict[str, int]:
        return {str(k): v for k, v in sorted(Counter(s.status for s in self.samples).items())}

    def summary(self) -> dict[str, object]:
        return {
            "offered_per_s": self.offered_rate,
            "achieved_per_s": round(self.achieved_rate, 1),
            "requests": len(self.samples),
            "p50_ms": self.percentile_ms(50),
            "p90_ms": self.percentile_ms(90),
            "p99_ms": self.percentile_ms(99),
            "p99_is_lower_bound": self.censored(99),
            "statuses": self.statuses(),
            "generator_behind_ms": round(self.behind_s * 1000, 1),
        }


class _Pool:
    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.idle: deque[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = deque()
        self.open = 0
        self.freed = asyncio.Condition()

    async def take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with self.freed:
            while not self.idle and self.open >= self.limit:
                await self.freed.wait()
            if self.idle:
                return self.idle.popleft()
            self.open += 1
        try:
            return await asyncio.open_connection(self.host, self.port)
        except OSError:
            await self.drop(None)
            raise

    async def give(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        async with self.freed:
            self.idle.append(conn)
            self.freed.notify()

    async def drop(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
        if conn is not None:
            conn[1].close()
        async with self.freed:
            self.open -= 1
            self.freed.notify()

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


async def _exchange(
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes
) -> tuple[int, bytes, bool]:
    reader, writer = conn
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, keep = 0, True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            keep = False
    body = await reader.readexactly(length) if length else b""
    return status, body, keep


async def open_loop(
    host: str,
    port: int,
    make_request: RequestFactory,
    *,
    rate: float,
    count: int,
    max_connections: int = 512,
    timeout_s: float = 10.0,
    keep_bodies: bool = False,
) -> LoadResult:
    """Send `count` requests at `rate` per second (inf: all at once); collect every answer."""
    if host not in LOOPBACK:
        raise ValueError("the load generator only targets loopback")
    pool = _Pool(host, port, max_connections)
    samples: list[Sample] = []
    behind = 0.0

    async def one(i: int, due: float) -> None:
        conn = None
        try:
            async with asyncio.timeout(timeout_s):
                conn = await pool.take()
                status, body, keep = await _exchange(conn, make_request(i))
            latency = time.perf_counter() - due
            samples.append(Sample(i, latency, status, body if keep_bodies else b""))
            if keep:
                await pool.give(conn)
            else:
                await pool.drop(conn)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            samples.append(Sample(i, math.inf, 0))
            if conn is not None:
                await pool.drop(conn)

    start = time.perf_counter() + 0.05
    tasks = []
    for i in range(count):
        due = start if math.isinf(rate) else start + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        else:
            behind = max(behind, -wait)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    duration = time.perf_counter() - start  # to the last answer: a server behind shows it
    pool.close()
    samples.sort(key=lambda s: s.index)
    return LoadResult(
        offered_rate=rate,
        duration_s=duration,
        samples=samples,
        behind_s=behind,
        timeout_s=timeout_s,
    )


def run(host: str, port: int, make_request: RequestFactory, **kwargs: object) -> LoadResult:
    """`open_loop` on its own event loop (uvloop when installed)."""
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop
        runner = asyncio.run
    return runner(open_loop(host, port, make_request, **kwargs))  # type: ignore[arg-type]


def form_post(host: str, port: int, path: str, body: str) -> bytes:
    """A keep-alive form POST, as raw bytes."""
    data = body.encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode() + data
