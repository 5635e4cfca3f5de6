"""`make bench-memory`: Redis memory per conversation and per outbox message, for the capacity
plan (docs/operations.md).

Usage: python bench/redis_memory.py [--sessions 2000] [--messages 100000] [--students 6000]

Everything runs on loopback and is stopped when the run ends: a throw-away redis-server (no
persistence), a seeded sandbox and the gateway (`python -m gateway serve`, one worker). Memory
is Redis' own count, `INFO memory` `used_memory` (the allocator's, keys and overheads included)
less its clients' buffers, read before and after each phase; the figures are the difference
divided by the count, and scaled to the plan's units.

- Sessions: `--sessions` guardian phones, each a new USSD session of two screens (the dial, then
  "1"), as a parent asking for absences leaves it: the session, the answers remembered for its
  screens, the rate-limit window, the language key and the cached guardian lookup, all live (a
  USSD session lives 180 s: the phase reads the memory as soon as the last screen answered).
  20 other phones warm the gateway up first (scripts loaded, breaker created).
- Queued messages: `--messages` alerts (half French, half Arabic, as the alerts' texts are)
  queued in the outbox the way the alerts consumer queues them (`Outbox.enqueue_many`).
- Sent messages: the same messages claimed, marked sent and acknowledged as a sender worker
  does (`claim`, `finish`, `ack`): the stream entries and their texts leave Redis; the
  idempotency and sent markers stay for 7 days, so a day's sends still weigh a week later.

Writes bench/results/redis_memory.json and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx
import redis as redis_sync

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    FORM,
    RESULTS,
    USSD_PATH,
    clean_env,
    free_port,
    guardian_phones,
    redis_server,
    sandbox_server,
    seed_sandbox,
    server,
    ussd_body,
    write_result,
)
from gateway.outbox.entries import Entry, decode
from gateway.outbox.model import MessageKind, OutChannel, outbound
from gateway.outbox.queue import Outbox
from gateway.state.connections import open_redis
from gateway.state.keys import Keys
from gateway.state.outbox.streams import as_text

HOST = "127.0.0.1"
WARM = 20
KEY = b"bench-redis-memory-identity-key"
# Alert texts as the alerts consumer writes them (gateway/alerts/texts.py), one per language.
TEXTS = (
    "Massar: Youssef absent(e) le 20/05, 08:30-10:30, non justifie. Repondez ABS.",
    "مسار: غياب غير مبرر لـسلمى يوم 20/05 من 08:30 إلى 10:30. أرسل غياب للتفاصيل.",
)


def used_memory(client: redis_sync.Redis) -> int:
    """What Redis holds for the data: `used_memory` without its clients' buffers (which grow
    with the connections open at that moment, not with the data)."""
    info = client.info("memory")
    return int(info["used_memory"]) - int(info["mem_clients_normal"])


async def dial(http: httpx.AsyncClient, base: str, phones: Sequence[str], run: str) -> int:
    """A two-screen USSD session from each phone, 16 at a time; how many answered 200."""
    gate = asyncio.Semaphore(16)
    ok = 0

    async def one(phone: str, n: int) -> None:
        nonlocal ok
        async with gate:
            for text in ("", "1"):
                resp = await http.post(
                    f"{base}{USSD_PATH}",
                    content=ussd_body(phone, f"{run}-{n}", text),
                    headers={"Content-Type": FORM},
                )
                ok += resp.status_code == 200

    await asyncio.gather(*(one(phone, n) for n, phone in enumerate(phones)))
    return ok


def sessions_phase(args: argparse.Namespace, tmp: Path, url: str) -> dict[str, object]:
    sandbox_env = seed_sandbox(tmp, args.students)
    phones = guardian_phones(tmp, WARM + args.sessions)
    if len(phones) < WARM + args.sessions:
        raise SystemExit(f"the sandbox has {len(phones)} guardian phones: raise --students")
    sandbox_port, gateway_port = free_port(), free_port()
    env = {
        **clean_env(),
        "GATEWAY_BACKEND_URL": f"http://{HOST}:{sandbox_port}/api/v1",
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp}/gateway.db",
        "GATEWAY_REDIS_URL": url,
        "GATEWAY_IDENTITY_KEY": KEY.decode(),
        "GATEWAY_LOG_LEVEL": "WARNING",
    }
    client = redis_sync.Redis.from_url(url)
    base = f"http://{HOST}:{gateway_port}"
    with (
        sandbox_server(sandbox_env, sandbox_port, log=tmp / "sandbox.log"),
        server(
            [sys.executable, "-m", "gateway", "serve", "--host", HOST, "--port", str(gateway_port)],
            env,
            f"{base}/healthz",
            log=tmp / "gateway.log",
        ),
    ):

        async def run() -> tuple[int, int, int, int, float]:
            async with httpx.AsyncClient(timeout=30) as http:
                await dial(http, base, phones[:WARM], "warm")
                before, keys_before = used_memory(client), int(client.dbsize())
                started = time.monotonic()
                ok = await dial(http, base, phones[WARM:], uuid.uuid4().hex[:8])
                elapsed = time.monotonic() - started
                return before, keys_before, ok, int(client.dbsize()), elapsed

        before, keys_before, ok, keys_after, elapsed = asyncio.run(run())
        after = used_memory(client)
        sample = one_phones_keys(client, phones[-1])
    client.close()
    per = (after - before) / args.sessions
    return {
        "sessions": args.sessions,
        "screens_answered": ok,
        "seconds": round(elapsed, 1),
        "keys_per_session": round((keys_after - keys_before) / args.sessions, 2),
        "bytes_per_session": round(per),
        "mb_per_100k_sessions": round(per * 100_000 / 2**20, 1),
        "one_phones_keys": sample,
    }


def one_phones_keys(client: redis_sync.Redis, phone: str) -> dict[str, int]:
    """MEMORY USAGE of each key one phone's session left, by what it is (no phone in names)."""
    tag = Keys(KEY).user_tag(phone)
    names = [*client.scan_iter(match=f"mg:{tag}:*"), *client.scan_iter(match=f"mg:c:{tag}*")]
    out: dict[str, int] = {}
    for name in names:
        text = name.decode()
        kind = text.replace(tag, "{phone}")
        kind = kind.split(":seen:")[0] + ":seen:…" if ":seen:" in kind else kind
        out[kind] = out.get(kind, 0) + int(client.memory_usage(name) or 0)
    return out


async def queue_and_send(url: str, count: int) -> dict[str, int]:
    redis, _ = open_redis(url)
    outbox = Outbox(redis, key_secret=KEY)
    client = redis_sync.Redis.from_url(url)
    now = datetime.now(UTC)
    await outbox.ensure_group()
    start = used_memory(client)
    for first in range(0, count, 500):
        await outbox.enqueue_many(
            [
                outbound(
                    MessageKind.ALERT,
                    key=f"alert:evt_{uuid.uuid4().hex[:16]}:+2126{n:08d}:sms",
                    channel=OutChannel.SMS,
                    to=f"+2126{n:08d}",
                    text=TEXTS[n % 2],
                    now=now,
                    student=f"stu_{n:012d}",
                )
                for n in range(first, min(count, first + 500))
            ]
        )
    queued = used_memory(client)
    done = 0
    while done < count:
        found = await outbox.read("bench", outbox.streams, count=500, block_ms=1000)
        entries = [
            decode(as_text(stream), as_text(entry_id), fields)
            for stream, rows in found or []
            for entry_id, fields in rows
        ]
        if not entries:
            break

        async def send(entry: Entry) -> None:
            claim = await outbox.claim(entry, lease_ms=60_000)
            await outbox.finish(entry, claim, f"SM{uuid.uuid4().hex}")

        await asyncio.gather(*(send(entry) for entry in entries))
        await outbox.ack(entries)
        done += len(entries)
    sent = used_memory(client)
    client.close()
    await redis.aclose()
    return {"start": start, "queued": queued, "sent": sent, "sent_count": done}


def messages_phase(args: argparse.Namespace, url: str) -> dict[str, object]:
    memory = asyncio.run(queue_and_send(url, args.messages))
    queued = (memory["queued"] - memory["start"]) / args.messages
    sent = (memory["sent"] - memory["start"]) / args.messages
    return {
        "messages": args.messages,
        "sent": memory["sent_count"],
        "bytes_per_queued_message": round(queued),
        "mb_per_million_queued": round(queued * 1_000_000 / 2**20),
        "bytes_per_sent_message_for_7_days": round(sent),
        "mb_per_million_sent_in_7_days": round(sent * 1_000_000 / 2**20),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--students", type=int, default=6000)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-redis-memory-") as folder:
        tmp = Path(folder)
        with redis_server(tmp) as url:
            sessions = sessions_phase(args, tmp, url)
        with redis_server(tmp) as url:
            messages = messages_phase(args, url)
    result = {"sessions": sessions, "messages": messages}
    write_result("redis_memory", result)
    s, m = sessions, messages
    rows = [
        ("one USSD session of two screens, all its keys", "bytes", s["bytes_per_session"]),
        ("100,000 such sessions live at once", "MB", s["mb_per_100k_sessions"]),
        ("one queued message (alert, SMS)", "bytes", m["bytes_per_queued_message"]),
        ("1,000,000 queued messages", "MB", m["mb_per_million_queued"]),
        ("one sent message, markers kept 7 days", "bytes", m["bytes_per_sent_message_for_7_days"]),
        ("1,000,000 messages sent in the last 7 days", "MB", m["mb_per_million_sent_in_7_days"]),
    ]
    print(f"{'Redis used_memory':<50}{'':>6}{'figure':>10}")
    for label, unit, value in rows:
        print(f"{label:<50}{unit:>6}{value:>10}")
    print(
        f"{sessions['sessions']} sessions ({sessions['keys_per_session']} keys each, "
        f"{sessions['seconds']} s), {messages['messages']} messages; "
        f"wrote {RESULTS / 'redis_memory.json'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
