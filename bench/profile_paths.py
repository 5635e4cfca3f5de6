"""The paths `make profile` samples besides a USSD or SMS turn (`--channel`):

- `alerts`: the change-feed consumer (`python -m gateway alerts`) and a sender worker while
  `--absences` new absences drain from the sandbox's feed to the sink (as `make bench-alerts`,
  on a sandbox of `--students`, seeded once under var/bench-alerts/);
- `kannel-sms`: the gateway (one worker) and its sender worker while phones never seen before
  text `AIDE` through a real Kannel (fakesmsc -> bearerbox -> smsbox -> the Kannel route),
  the answers going out through sendsms (as `make bench-kannel`'s "gateway in");
- `kannel-out`: the sender worker while alerts queued straight into the outbox leave through
  Kannel's sendsms (`make bench-kannel`'s "gateway out, alerts").

Each yields the processes to sample, the first one drawn as the flame graph, and the load to
keep running (in a thread, until told to stop) while py-spy samples them.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio

from bench import alerts, kannel
from bench.common import ROOT, clean_env, free_port, redis_server, server, stop

Load = Callable[[threading.Event], None]


@dataclass(frozen=True)
class Scenario:
    targets: list[tuple[str, int]]  # (what, pid); the first gets the flame graph
    load: Load
    what: str  # one line for the report's header


def idle(stop_: threading.Event) -> None:
    """No load of our own: the work was queued before sampling (the alerts drain)."""
    stop_.wait()


@contextmanager
def alerts_path(tmp: Path, args: argparse.Namespace) -> Iterator[Scenario]:
    seeded = alerts.sandbox_file(
        ROOT / f"var/bench-alerts/profile-{args.students}.db", args.students
    )
    shutil.copyfile(seeded, tmp / "sandbox.db")
    alerts.LOGS.mkdir(parents=True, exist_ok=True)
    names = ["profile-0", "profile-1", "alerts"]
    for name in names:  # started_ms reads these: no line of an earlier run
        (alerts.LOGS / f"{name}.log").unlink(missing_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sandbox_env = {**clean_env(), "SANDBOX_DATABASE_URL": f"sqlite:///{tmp}/sandbox.db"}
    command = [sys.executable, "-m", "sandbox", "serve", "--port", str(port)]
    with (
        redis_server(tmp) as url,
        server(command, sandbox_env, f"{base}/health", log=tmp / "sandbox.log"),
    ):
        # Named as in bench-alerts: the consumer's JSON log is alerts.log, which started_ms reads.
        env = alerts.gateway_env(url, f"{base}/api/v1", tmp, "alerts")
        alerts.set_cursor(env, alerts.head(base))
        print(f"recording {args.absences:,} absences in the sandbox's feed")
        made = alerts.generate(base, args.absences)
        procs = [alerts.launch(env, ["worker", "--consumer", n]) for n in names[:2]]
        try:
            alerts.started_ms(names[:2], "outbox_worker_started")
            procs.append(alerts.launch(env, ["alerts"]))
            alerts.started_ms(["alerts"], "alerts_consumer_started")
            yield Scenario(
                targets=[("alerts consumer", procs[-1].pid), ("sender worker", procs[0].pid)],
                load=idle,
                what=f"{made:,} absences from the change feed to the sink, 2 sender workers",
            )
        finally:
            for proc in procs:
                stop(proc)


@contextmanager
def kannel_sms_path(tmp: Path, args: argparse.Namespace) -> Iterator[Scenario]:
    with kannel.gateway_behind_kannel(tmp) as g:
        fake = g.kannel.links["IAM"]
        batch = 200

        def texts(stop_: threading.Event) -> None:
            offset = 0
            while not stop_.is_set():  # new phones every batch: never seen before
                kannel.text_all(fake, kannel.phones(batch, offset=offset), "AIDE")
                offset += batch
                fake.clear()

        yield Scenario(
            targets=[("gateway", g.gateway.pid), ("sender worker", g.worker.pid)],
            load=texts,
            what="SMS in through Kannel from phones never seen, answers out through sendsms",
        )


@contextmanager
def kannel_out_path(tmp: Path, args: argparse.Namespace) -> Iterator[Scenario]:
    with kannel.gateway_behind_kannel(tmp) as g:
        fake = g.kannel.links["IAM"]
        batch = 500

        def queue(stop_: threading.Event) -> None:
            offset = 0
            while not stop_.is_set():
                to = kannel.phones(batch, offset=offset)
                anyio.run(kannel.enqueue_alerts, g.redis_url, g.key.encode(), to)
                offset += batch
                fake.clear()

        yield Scenario(
            targets=[("sender worker", g.worker.pid)],
            load=queue,
            what="alerts queued into the outbox, sent through Kannel's sendsms",
        )


PATHS = {"alerts": alerts_path, "kannel-sms": kannel_sms_path, "kannel-out": kannel_out_path}


def needs_kannel(channel: str) -> str | None:
    """Why this path cannot run here (Kannel missing), or None."""
    return kannel.harness.missing() if channel.startswith("kannel") else None
