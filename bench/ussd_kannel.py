"""`make bench-ussd-kannel`: USSD dials through a real Kannel and an operator's SMPP USSD
gateway (the test SMSC, tests/kannel/smsc.py), against baselines measured in the same run.

Usage: python bench/ussd_kannel.py [--dials 300] [--timeout 90]

Everything runs on loopback and is stopped when the run ends: a throw-away redis-server, a
seeded sandbox, the gateway (`python -m gateway serve`, one worker), Kannel (bearerbox +
smsbox on deploy/kannel/kannel.conf, its IAM-USSD link bound to the SMSC). Each measure sends
`--dials` dials at once, each from a phone of its own, and times each from its deliver_sm
(or request) to its screen:

- Kannel alone: SMSC -> bearerbox -> smsbox -> a bare HTTP receiver that answers a fixed
  screen with its X-Kannel-Meta-Data -> submit_sm back to the SMSC;
- the gateway's route called straight, 16 at a time, as smsbox would (the turn's own cost);
- through Kannel: SMSC -> Kannel -> the gateway -> submit_sm back.

Writes bench/results/ussd_kannel.json and prints a table: dials per second (first to last
screen), the median and p99 of each dial's time, the share that got the menu (not "busy"),
and the ratios of the gateway through Kannel to the gateway's route called straight.
Needs `apt install kannel kannel-extras`.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    clean_env,
    free_port,
    gateway_server,
    redis_server,
    sandbox_server,
    seed_sandbox,
    write_result,
)
from tests.kannel import harness
from tests.kannel.smsc import Smsc, run_smsc, wait_bound

HOST = "127.0.0.1"
TOKEN = "bench-kannel-callback-token"  # noqa: S105 - a throw-away Kannel's
LINK = "IAM-USSD"
NEW = 0x01
SCREEN = "Services Massar :\n1. Absences\n2. Notes\n3. Inscription\n4. Aide\n5. Arabe\n6. Alertes"


def phones(count: int, offset: int) -> list[str]:
    """International numbers without +, as an SMSC sends them (TON 1)."""
    return [f"21262{n + offset:07d}" for n in range(count)]


def summary(times: Sequence[float], durations_ms: Sequence[float]) -> dict[str, float]:
    ordered = sorted(durations_ms)
    span = max(max(times) - min(times), 1e-6) if len(times) > 1 else 1e-6
    return {
        "per_s": round((len(times) - 1) / span, 1),
        "p50_ms": round(ordered[len(ordered) // 2], 1),
        "p99_ms": round(ordered[max(int(len(ordered) * 0.99) - 1, 0)], 1),
    }


def dial_all(
    smsc: Smsc, to: Sequence[str], timeout_s: float, *, one_by_one: bool = False
) -> dict[str, float]:
    """Dial from every phone at once (or each after the last one's screen); each dial's time
    to its screen."""
    before = len(smsc.received())
    sent: dict[str, float] = {}

    def wait(count: int) -> None:
        deadline = time.monotonic() + timeout_s
        while len(smsc.received()) - before < count:
            if time.monotonic() > deadline:
                got = len(smsc.received()) - before
                raise SystemExit(f"screens: {got} of {count} within {timeout_s:.0f} s")
            time.sleep(0.001 if one_by_one else 0.02)

    for n, phone in enumerate(to):
        sent[phone] = time.monotonic()
        smsc.deliver(phone, "*2020#", op=NEW, session=bytes([n % 256, 0]))
        if one_by_one:
            wait(n + 1)
    wait(len(to))
    arrived = smsc.received_at()[before:]
    # A dial answered "busy" (the turn ran out of its 2 s) is an answer but not the menu.
    menus = sum(sm.text.split("\n", 1)[-1].startswith("1. ") for _, sm in arrived)
    times = [at for at, _ in arrived]
    durations = [(at - sent[sm.destination]) * 1000 for at, sm in arrived]
    return {**summary(times, durations), "menus": round(menus / len(to), 3)}


class Receiver:
    """A bare HTTP receiver: every call gets the same screen and its session TLVs."""

    def __init__(self, port: int) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = SCREEN.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("X-Kannel-Meta-Data", "?smpp?ussd_service_op=%02")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((HOST, port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def run_kannel(tmp: Path, gateway_port: int, smsc: Smsc) -> AbstractContextManager[harness.Kannel]:
    return harness.run_kannel(
        tmp,
        gateway_url=f"http://{HOST}:{gateway_port}",
        token=TOKEN,
        sendsms_password="bench-sendsms-password",  # noqa: S106
        operators=(),
        smpp={LINK: smsc.port},
        log_level=2,
    )


def kannel_alone(tmp: Path, count: int, timeout_s: float) -> dict[str, dict[str, float]]:
    port = free_port()
    receiver = Receiver(port)
    try:
        with run_smsc(free_port()) as smsc, run_kannel(tmp, port, smsc):
            wait_bound(smsc)
            single = min(count, 50)
            return {
                "burst": dial_all(smsc, phones(count, 0), timeout_s),
                "one": dial_all(smsc, phones(single, count), timeout_s, one_by_one=True),
            }
    finally:
        receiver.server.shutdown()


def post_direct(port: int, to: Sequence[str], concurrency: int = 16) -> dict[str, float]:
    """The gateway's route called as smsbox calls it, `concurrency` at a time."""
    url = f"http://{HOST}:{port}/channels/ussd/kannel"

    def post(client: httpx.Client, phone: str) -> tuple[float, float]:
        query = {
            "token": TOKEN, "from": f"+{phone}", "to": "*2020#", "smsc": LINK,
            "id": str(uuid.uuid4()), "coding": "0", "charset": "UTF-8",
            "meta": f"?smpp?ussd_service_op=%01&its_session_info={quote(b'*' + bytes(1))}&",
        }  # fmt: skip
        started = time.monotonic()
        response = client.post(f"{url}?{urlencode(query)}", content=b"*2020#")
        if response.status_code != 200 or "x-kannel-meta-data" not in response.headers:
            raise SystemExit(f"direct: {response.status_code} {response.text[:80]!r}")
        done = time.monotonic()
        return done, (done - started) * 1000, response.text.split("\n", 1)[-1].startswith("1. ")

    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(lambda phone: post(client, phone), to))
    menus = sum(menu for _, _, menu in results) / len(to)
    return {**summary([r[0] for r in results], [r[1] for r in results]), "menus": round(menus, 3)}


def with_gateway(tmp: Path, count: int, timeout_s: float) -> dict[str, dict[str, float]]:
    sandbox_port, gateway_port = free_port(), free_port()
    sandbox_env = seed_sandbox(tmp, 200)
    with redis_server(tmp) as redis_url, run_smsc(free_port()) as smsc:
        env = {
            **clean_env(),
            "GATEWAY_BACKEND_URL": f"http://{HOST}:{sandbox_port}/api/v1",
            "GATEWAY_DATABASE_URL": f"sqlite:///{tmp}/gateway.db",
            "GATEWAY_REDIS_URL": redis_url,
            "GATEWAY_IDENTITY_KEY": f"bench-{uuid.uuid4().hex}",
            "GATEWAY_PUBLIC_URL": f"http://{HOST}:{gateway_port}",
            "GATEWAY_LOG_LEVEL": "WARNING",
            "GATEWAY_KANNEL_CALLBACK_TOKEN": TOKEN,
        }
        with (
            sandbox_server(sandbox_env, sandbox_port, log=tmp / "servers.log", host=HOST),
            gateway_server(env, gateway_port, log=tmp / "servers.log", host=HOST),
            run_kannel(tmp / "kannel", gateway_port, smsc),
        ):  # fmt: skip
            wait_bound(smsc)
            single = min(count, 50)
            return {
                "direct": post_direct(gateway_port, phones(count, count)),
                "through": dial_all(smsc, phones(count, 2 * count), timeout_s),
                "direct_one": post_direct(gateway_port, phones(single, 3 * count), 1),
                "through_one": dial_all(
                    smsc, phones(single, 4 * count), timeout_s, one_by_one=True
                ),
            }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dials", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds per measure")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    reason = harness.missing()
    if reason is not None:
        raise SystemExit(f"bench-ussd-kannel: {reason}")
    with tempfile.TemporaryDirectory(prefix="bench-ussd-kannel-") as folder:
        tmp = Path(folder)
        for part in ("alone", "kannel"):
            (tmp / part).mkdir()
        alone = kannel_alone(tmp / "alone", args.dials, args.timeout)
        measured = with_gateway(tmp, args.dials, args.timeout)
    direct, through = measured["direct"], measured["through"]
    direct_one, through_one = measured["direct_one"], measured["through_one"]
    ratio: Callable[[float, float], float] = lambda a, b: round(a / b, 2) if b else 0.0  # noqa: E731
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "dials": args.dials,
        "burst": {
            "kannel_alone": alone["burst"],
            "gateway_direct": direct,
            "gateway_through_kannel": through,
        },
        "one_by_one": {
            "kannel_alone": alone["one"],
            "gateway_direct": direct_one,
            "gateway_through_kannel": through_one,
        },
        "ratios": {
            "burst_through_over_direct_per_s": ratio(through["per_s"], direct["per_s"]),
            "one_through_over_direct_p50": ratio(through_one["p50_ms"], direct_one["p50_ms"]),
            "one_kannel_added_p50_ms": round(through_one["p50_ms"] - direct_one["p50_ms"], 1),
        },
    }
    write_result("ussd_kannel", result)
    rows = [
        ("burst: Kannel alone (bare receiver)", alone["burst"]),
        ("burst: gateway's route, 16 at a time", direct),
        ("burst: gateway through Kannel", through),
        ("one by one: Kannel alone", alone["one"]),
        ("one by one: gateway's route", direct_one),
        ("one by one: gateway through Kannel", through_one),
    ]
    out = sys.stdout
    out.write(f"{args.dials} dials at once (one by one: {min(args.dials, 50)}), own phones\n")
    out.write(f"{'measure':<38} {'dials/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'menus':>6}\n")
    for name, row in rows:
        cells = f"{row['per_s']:>8} {row['p50_ms']:>8} {row['p99_ms']:>8}"
        out.write(f"{name:<38} {cells} {row.get('menus', 1.0):>6.0%}\n")
    out.write(f"ratios: {json.dumps(result['ratios'])}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
