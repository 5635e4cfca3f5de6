"""`make bench-kannel`: SMS per second in and out through a real Kannel, with and without the
gateway behind it.

Usage: python bench/kannel.py [--messages 300] [--timeout 90]

Everything runs on loopback and is stopped when the run ends: a throw-away redis-server, a
seeded sandbox, the gateway (`python -m gateway serve`, one worker) and one sender worker
(`python -m gateway worker`), and Kannel (bearerbox + smsbox on deploy/kannel/kannel.conf with
a fakesmsc as the operator; tests/kannel/harness.py). Each measure sends `--messages` SMS at
once and times them from the first to the last arrival, so start-up is not counted:

- Kannel alone, in: fakesmsc -> bearerbox -> smsbox -> a bare HTTP receiver (answers 200);
- Kannel alone, out: sendsms POSTs from 16 concurrent clients, timed by their 202 answers;
- the gateway's route called straight, 16 at a time, as smsbox would (the turn's own cost);
- gateway in: phones text AIDE -> the gateway's route answers (its request log's clock);
- gateway out, replies: the answers of those texts leave through the outbox and sendsms,
  timed by the records' `sent_at` (when sendsms accepted each);
- gateway out, alerts: messages queued straight into the outbox, timed the same way.

Every measure also waits until all the SMS have come out of fakesmsc (its log comes in
once-a-second bursts, so it is not used for timing out).

Each phone texts once (the per-phone rate limit stays out of it). Writes
bench/results/kannel.json and prints a table. Needs `apt install kannel kannel-extras`.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import anyio
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    RESULTS,
    clean_env,
    free_port,
    gateway_server,
    redis_server,
    sandbox_server,
    seed_sandbox,
    server,
    write_result,
)
from gateway.outbox.model import MessageKind, OutChannel, outbound
from gateway.outbox.queue import Outbox
from gateway.state.connections import open_redis
from tests.kannel import harness

HOST = "127.0.0.1"
TOKEN = "bench-kannel-callback-token"  # noqa: S105 - a throw-away Kannel's
SENDSMS_PASSWORD = "bench-kannel-sendsms-password"  # noqa: S105
ALERT = "Youssef : 2 absences non justifiees cette semaine (lun. 18/05, mar. 19/05)."


def rate(times: Sequence[float]) -> float:
    """Messages per second from the first arrival to the last."""
    if len(times) < 2:
        return 0.0
    return (len(times) - 1) / max(times[-1] - times[0], 1e-6)


def wait_count(count: Callable[[], int], target: int, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while count() < target:
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: {count()} of {target} within {timeout_s:.0f} s")
        time.sleep(0.05)


def phones(count: int, offset: int = 0) -> list[str]:
    return [f"+21261{n + offset:07d}" for n in range(count)]


# fakesmsc loses a line cut across two of its 256-byte stdin reads: one line per millisecond
# or so keeps every one (and caps what is offered near 500 SMS/s, reported as "offered").
PACE_S = 0.001


def text_all(fake: harness.Fakesmsc, to: Sequence[str], text: str) -> float:
    """Each phone texts `text`, paced; the rate they were offered at (SMS/s)."""
    started = time.monotonic()
    for phone in to:
        fake.send(phone, "2020", text)
        time.sleep(PACE_S)
    return (len(to) - 1) / max(time.monotonic() - started, 1e-6)


class Receiver(http.server.ThreadingHTTPServer):
    """Kannel's post-url at its cheapest: note the time, answer 200."""

    def __init__(self, port: int) -> None:
        self.arrivals: list[float] = []
        self.request_queue_size = 1024  # smsbox opens many connections at once
        lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                with lock:
                    outer.arrivals.append(time.monotonic())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__((HOST, port), Handler)


def kannel_alone(tmp: Path, count: int, timeout_s: float) -> dict[str, float]:
    port = free_port()
    receiver = Receiver(port)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        with harness.run_kannel(
            tmp / "alone",
            gateway_url=f"http://{HOST}:{port}",
            token=TOKEN,
            sendsms_password=SENDSMS_PASSWORD,
            log_level=2,
        ) as kannel:
            fake = kannel.links["IAM"]
            offered = text_all(fake, phones(count), "AIDE")
            wait_count(lambda: len(receiver.arrivals), count, timeout_s, "Kannel alone, in")
            fake.clear()
            headers = {
                "Content-Type": "text/plain; charset=UTF-8",
                "X-Kannel-Username": "massar",
                "X-Kannel-Password": SENDSMS_PASSWORD,
                "X-Kannel-From": "2020",
            }
            with httpx.Client(timeout=10) as client, ThreadPoolExecutor(16) as pool:

                def send(phone: str) -> tuple[int, float]:
                    response = client.post(
                        kannel.sendsms_url,
                        content=ALERT.encode(),
                        headers={**headers, "X-Kannel-To": phone},
                    )
                    return response.status_code, time.monotonic()

                answers = list(pool.map(send, phones(count)))
            statuses = [status for status, _ in answers]
            if any(status != 202 for status in statuses):
                raise SystemExit(f"sendsms refused some: {sorted(set(statuses))}")
            wait_count(lambda: len(fake.received_at()), count, timeout_s, "Kannel alone, out")
            return {
                "offered": offered,
                "in": rate(receiver.arrivals),
                # Accepted by sendsms (202): fakesmsc's own log comes in bursts, once a second.
                "out": rate(sorted(at for _, at in answers)),
            }
    finally:
        receiver.shutdown()
        receiver.server_close()


def answered(log: Path, path: str) -> list[tuple[float, float]]:
    """(wall-clock time, duration ms) of the gateway's 200 answers on `path`, in time order,
    from its JSON request lines."""
    found: list[tuple[float, float]] = []
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if (entry.get("event"), entry.get("path"), entry.get("status")) == ("request", path, 200):
            at = datetime.fromisoformat(entry["timestamp"]).timestamp()
            found.append((at, float(entry["duration_ms"])))
    return sorted(found)


def post_direct(port: int, to: Sequence[str], log: Path, route: str) -> float:
    """SMS/s of the gateway's Kannel route called straight, as smsbox would, 16 at a time:
    the turn's own cost, without Kannel."""
    url = f"http://{HOST}:{port}{route}"
    before = len(answered(log, route))
    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(16) as pool:

        def post(phone: str) -> int:
            params = {"token": TOKEN, "from": phone, "to": "2020", "smsc": "IAM",
                      "id": str(uuid.uuid4()), "coding": "0", "charset": "UTF-8"}  # fmt: skip
            headers = {"Content-Type": 'text/plain; charset="UTF-8"'}
            return client.post(url, params=params, content=b"AIDE", headers=headers).status_code

        statuses = list(pool.map(post, to))
    if any(status != 200 for status in statuses):
        raise SystemExit(f"the gateway refused some: {sorted(set(statuses))}")
    wait_count(lambda: len(answered(log, route)), before + len(to), 30, "direct calls logged")
    return rate([at for at, _ in answered(log, route)[before:]])


def sent_times(database: Path, kind: str) -> list[float]:
    """When Kannel's sendsms accepted each message of `kind`, as the sender worker recorded
    it (`sent_at`), in order: fakesmsc's own log comes in bursts, once a second."""
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "select sent_at from outbound_message where kind = ? and sent_at is not null", (kind,)
        ).fetchall()
    return sorted(datetime.fromisoformat(str(at)).timestamp() for (at,) in rows)


async def enqueue_alerts(redis_url: str, key: bytes, to: Sequence[str]) -> None:
    client, _ = open_redis(redis_url)
    outbox = Outbox(client, key_secret=key)
    now = datetime.now(UTC)
    for phone in to:
        await outbox.enqueue(
            outbound(
                MessageKind.ALERT,
                key=f"bench:{uuid.uuid4().hex}",
                channel=OutChannel.SMS,
                to=phone,
                text=ALERT,
                now=now,
            )
        )
    await client.aclose()


@dataclass(frozen=True)
class Behind:
    """The gateway behind a running Kannel (`gateway_behind_kannel`)."""

    kannel: harness.Kannel
    redis_url: str
    key: str
    log: Path  # the gateway's JSON log (each route's answer, with its duration)
    database: Path
    port: int
    gateway: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]


@contextmanager
def gateway_behind_kannel(tmp: Path) -> Iterator[Behind]:
    """Redis, Kannel (fakesmsc as the operator), a seeded sandbox, the gateway (one worker)
    and one sender worker sending through Kannel's sendsms; all stopped when the block ends.
    Also `make profile --channel kannel-sms|kannel-out` (bench/profile_paths.py)."""
    (tmp / "gateway").mkdir(exist_ok=True)
    sandbox_port, gateway_port, metrics_port = free_port(), free_port(), free_port()
    sandbox_env = seed_sandbox(tmp, 200)
    key = f"bench-{uuid.uuid4().hex}"
    log = tmp / "gateway.jsonl"
    with (
        redis_server(tmp) as redis_url,
        harness.run_kannel(
            tmp / "gateway",
            gateway_url=f"http://{HOST}:{gateway_port}",
            token=TOKEN,
            sendsms_password=SENDSMS_PASSWORD,
            log_level=2,
        ) as kannel,
    ):
        env = {
            **clean_env(),
            "GATEWAY_BACKEND_URL": f"http://{HOST}:{sandbox_port}/api/v1",
            "GATEWAY_DATABASE_URL": f"sqlite:///{tmp}/gateway.db",
            "GATEWAY_REDIS_URL": redis_url,
            "GATEWAY_IDENTITY_KEY": key,
            "GATEWAY_PUBLIC_URL": f"http://{HOST}:{gateway_port}",
            "GATEWAY_LOG_FORMAT": "json",
            "GATEWAY_LOG_LEVEL": "INFO",
            "GATEWAY_LOG_FILE": str(log),
            "GATEWAY_SMS_SENDER": "kannel",
            "GATEWAY_KANNEL_CALLBACK_TOKEN": TOKEN,
            "GATEWAY_KANNEL_SENDSMS_URL": kannel.sendsms_url,
            "GATEWAY_KANNEL_SENDSMS_USER": "massar",
            "GATEWAY_KANNEL_SENDSMS_PASSWORD": SENDSMS_PASSWORD,
            "GATEWAY_KANNEL_SMS_FROM": "2020",
            "GATEWAY_OUTBOX_RATE_SMS": "10000",
            "GATEWAY_OUTBOX_BURST_SMS": "10000",
            "GATEWAY_OUTBOX_RATE_SMS_LINKS": "",  # the harness' links have no throughput either
        }
        with (
            sandbox_server(sandbox_env, sandbox_port, log=tmp / "servers.log", host=HOST),
            gateway_server(env, gateway_port, log=tmp / "servers.log", host=HOST) as gateway,
            server(
                [sys.executable, "-m", "gateway", "worker", "--metrics-port", str(metrics_port)],
                env,
                f"http://{HOST}:{metrics_port}/metrics",
                log=tmp / "servers.log",
            ) as worker,
        ):  # fmt: skip
            yield Behind(kannel, redis_url, key, log, tmp / "gateway.db", gateway_port, gateway,
                         worker)  # fmt: skip


def with_gateway(tmp: Path, count: int, timeout_s: float) -> dict[str, float]:
    with gateway_behind_kannel(tmp) as g:
        route = "/channels/sms/kannel"
        direct = post_direct(g.port, phones(count, offset=2 * count), g.log, route)
        fake = g.kannel.links["IAM"]
        wait_count(lambda: len(fake.received_at()), count, timeout_s, "direct replies")
        fake.clear()
        before = len(answered(g.log, route))
        offered = text_all(fake, phones(count), "AIDE")
        total = before + count
        wait_count(lambda: len(answered(g.log, route)), total, timeout_s, "gateway in")
        wait_count(lambda: len(fake.received_at()), count, timeout_s, "gateway out, replies")
        calls = answered(g.log, route)[before:]
        fake.clear()
        anyio.run(enqueue_alerts, g.redis_url, g.key.encode(), phones(count, offset=count))
        wait_count(lambda: len(fake.received_at()), count, timeout_s, "gateway out, alerts")
        durations = sorted(ms for _, ms in calls)
        return {
            "offered": offered,
            "direct": direct,
            "in": rate([at for at, _ in calls]),
            "in_p50_ms": durations[len(durations) // 2],
            "in_p99_ms": durations[int(len(durations) * 0.99) - 1],
            "out_replies": rate(sent_times(g.database, "reply")[-count:]),
            "out_alerts": rate(sent_times(g.database, "alert")),
        }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds per measure")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    reason = harness.missing()
    if reason is not None:
        raise SystemExit(f"bench-kannel: {reason}")
    with tempfile.TemporaryDirectory(prefix="bench-kannel-") as folder:
        tmp = Path(folder)
        for part in ("alone", "gateway"):
            (tmp / part).mkdir()
        alone = kannel_alone(tmp, args.messages, args.timeout)
        gateway = with_gateway(tmp, args.messages, args.timeout)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "messages": args.messages,
        "sms_per_s": {
            "offered_in": round(min(alone["offered"], gateway["offered"]), 1),
            "kannel_alone_in": round(alone["in"], 1),
            "kannel_alone_out": round(alone["out"], 1),
            "gateway_route_direct": round(gateway["direct"], 1),
            "gateway_in": round(gateway["in"], 1),
            "gateway_in_p50_ms": gateway["in_p50_ms"],
            "gateway_in_p99_ms": gateway["in_p99_ms"],
            "gateway_out_replies": round(gateway["out_replies"], 1),
            "gateway_out_alerts": round(gateway["out_alerts"], 1),
        },
    }
    write_result("kannel", result)
    rows = [
        (
            "offered: fakesmsc's input, paced (in, both runs, lower)",
            result["sms_per_s"]["offered_in"],
        ),  # type: ignore[index]
        ("Kannel alone, in (fakesmsc -> smsbox -> bare 200)", alone["in"]),
        ("Kannel alone, out (sendsms x16, accepted)", alone["out"]),
        ("gateway route called straight, x16 (no Kannel)", gateway["direct"]),
        ("gateway in (fakesmsc -> smsbox -> the Kannel route)", gateway["in"]),
        ("gateway out, replies (outbox -> sendsms, accepted)", gateway["out_replies"]),
        ("gateway out, alerts (outbox -> sendsms, accepted)", gateway["out_alerts"]),
    ]
    print(f"{'measure':<56}{'SMS/s':>9}")
    for label, value in rows:
        print(f"{label:<56}{value:>9.1f}")
    print(f"{args.messages} SMS per measure, {os.cpu_count()} CPUs; wrote {RESULTS}/kannel.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
