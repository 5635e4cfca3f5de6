"""A terminal phone: talk to the gateway's real routes as a user of one channel.

    python -m gateway simulate --channel ussd --phone +212600000001
    python -m gateway simulate --channel sms --phone +212600000099 --url http://127.0.0.1:8000

Requests are signed as the provider would sign them (AT's URL token, Twilio's signature),
with the secrets from the GATEWAY_* settings. Without `--url`, an in-process gateway and
sandbox backend (seeded in a temporary folder) answer, so nothing needs to be running; their
logs go to `var/simulate-<time>.log`, named on the first line, so the terminal shows only the
conversation. The messages the gateway sends the phone (an SMS follow-up, say) appear in the
conversation as `[SMS] …`: the simulator asks `GET /admin/messages?to=<phone>` after each turn
and about once a second while it waits. Each line typed is one input; an empty line on USSD
dials again; Ctrl-D quits.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import TextIO

import anyio
import httpx

from gateway import logs
from gateway.cli.settings import load_settings
from gateway.phones import to_e164
from gateway.settings import Settings
from gateway.simulate import PHONES, REPLY_POLL_S, REPLY_WAIT_S, Inbox

POLL_INTERVAL_S = 1.0


@asynccontextmanager
async def in_process_gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox and the gateway in this process, wired by ASGI transports."""
    from gateway.app import create_app
    from gateway.state.migrate import upgrade
    from sandbox import db
    from sandbox.app import create_app as create_sandbox
    from sandbox.seed import seed_database
    from sandbox.settings import SandboxSettings

    # Before seeding, so the sandbox's lines go where the gateway's will (create_app does it
    # again, the same way).
    logs.configure(json_logs=settings.json_logs, level=settings.log_level, file=settings.log_file)
    with tempfile.TemporaryDirectory(prefix="massar-sim-") as tmp:
        sandbox_settings = SandboxSettings(database_url=f"sqlite:///{Path(tmp)}/sandbox.db")

        def seed() -> None:
            engine = db.make_engine(sandbox_settings.database_url)
            seed_database(
                engine, students=200, seed=sandbox_settings.seed, now=sandbox_settings.now
            )
            engine.dispose()

        await anyio.to_thread.run_sync(seed)
        sandbox = create_sandbox(sandbox_settings)
        gateway_database = f"sqlite:///{Path(tmp)}/gateway.db"
        await anyio.to_thread.run_sync(upgrade, gateway_database)  # as `serve` does first
        # The replies of Meta and Telegram leave through the outbox: a sender runs in here.
        embedded = True if settings.embedded_sender is None else settings.embedded_sender
        gateway = create_app(
            settings.model_copy(
                update={"database_url": gateway_database, "embedded_sender": embedded}
            ),
            backend_transport=httpx.ASGITransport(app=sandbox),
        )
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(sandbox.router.lifespan_context(sandbox))
            await stack.enter_async_context(gateway.router.lifespan_context(gateway))
            yield await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=gateway), base_url=settings.public_url
                )
            )


def simulator_log_file(settings: Settings) -> Path:
    """Where the in-process servers log: a new file under `var/` for each run."""
    return settings.var_dir / f"simulate-{datetime.now().astimezone():%Y%m%d-%H%M%S}.log"


async def converse(
    channel: str,
    phone: str,
    *,
    url: str | None,
    settings: Settings,
    lines: TextIO = sys.stdin,
    out: Callable[[str], None] = print,
    transport: httpx.AsyncBaseTransport | None = None,
    poll_s: float = POLL_INTERVAL_S,
) -> None:
    """Talk to the gateway at `url` (through `transport`, a test's stand-in) or in-process."""
    async with AsyncExitStack() as stack:
        if url:
            http = await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, timeout=10, transport=transport)
            )
        else:
            log_file = simulator_log_file(settings)
            settings = settings.model_copy(update={"log_file": log_file})
            out(f"logs: {log_file}")
            http = await stack.enter_async_context(in_process_gateway(settings))
        handset = PHONES[channel](http, settings, phone)
        inbox = Inbox(http, settings, handset.address, out, show=handset.show)
        await inbox.start()
        # One thing prints at a time: a message that comes during a turn waits for its screen.
        printing = anyio.Lock()

        async def show_reply() -> None:
            """What the gateway sent; a chat app's answer is awaited a few seconds."""
            printed = await inbox.show_new()
            with anyio.move_on_after(REPLY_WAIT_S if handset.replies_later else 0):
                while not printed and inbox.enabled:
                    await anyio.sleep(REPLY_POLL_S)
                    printed = await inbox.show_new()

        started = await handset.start()
        for line in started:
            out(line)
        if started:
            await show_reply()

        async def turn(line: str) -> None:
            async with printing:
                if line:
                    out(f"> {line.strip()}")
                shown = await handset.send(line.rstrip("\n"))
                if shown:  # chat apps answer through the outbox: the inbox shows it
                    out(shown)
                await show_reply()

        async def watch_inbox() -> None:
            while inbox.enabled:
                await anyio.sleep(poll_s)
                async with printing:
                    await inbox.show_new()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(watch_inbox)
            if handset.dials_first:
                await turn("")  # dials
            while line := await anyio.to_thread.run_sync(lines.readline):
                await turn(line)
            tasks.cancel_scope.cancel()


def simulate(args: argparse.Namespace) -> int:
    phone = to_e164(args.phone)
    if phone is None:
        print(f"massar-gateway: {args.phone!r} is not a phone number", file=sys.stderr)  # noqa: T201
        return 2
    settings = load_settings()
    anyio.run(lambda: converse(args.channel, phone, url=args.url, settings=settings))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_sim = sub.add_parser("simulate", help="talk to the gateway as a user of one channel")
    p_sim.add_argument(
        "--channel", choices=sorted(PHONES), default="ussd", help="the handset (default: ussd)"
    )
    p_sim.add_argument(
        "--phone", default="+212600000001", help="the phone it calls from (default: a demo one)"
    )
    p_sim.add_argument(
        "--url", default=None, help="a running gateway (default: an in-process one with a sandbox)"
    )
    p_sim.set_defaults(func=simulate)
