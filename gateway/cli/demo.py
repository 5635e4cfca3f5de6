"""`python -m gateway demo` (what `make run` runs): the sandbox backend, then the gateway
pointed at it; Ctrl-C stops both.

The demo is one command: its gateway sends (the outbox) and consumes the change feed (alerts)
in its own process whatever Redis it runs on, the in-process stand-in or GATEWAY_REDIS_URL,
unless GATEWAY_EMBEDDED_SENDER / GATEWAY_EMBEDDED_ALERTS say otherwise."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

import httpx

# A stopping gateway first finishes the sends it holds: a follow-up may take its whole budget
# (GATEWAY_FOLLOWUP_BUDGET_S, 30 s) when the backend is slow.
STOP_GRACE_S = 40.0


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def demo(args: argparse.Namespace) -> int:
    """Start the sandbox backend, then the gateway pointed at it; Ctrl-C stops both."""
    sandbox_port = int(os.environ.get("SANDBOX_PORT", "8100"))
    gateway_port = int(os.environ.get("GATEWAY_PORT", "8000"))
    env = dict(os.environ)
    env.setdefault("GATEWAY_BACKEND_URL", f"http://127.0.0.1:{sandbox_port}/api/v1")
    env.setdefault("GATEWAY_PUBLIC_URL", f"http://127.0.0.1:{gateway_port}")
    # Nobody starts `gateway worker` or `gateway alerts` for a demo: its gateway does both.
    env.setdefault("GATEWAY_EMBEDDED_SENDER", "true")
    env.setdefault("GATEWAY_EMBEDDED_ALERTS", "true")
    procs: list[subprocess.Popen[bytes]] = []

    def stop_all(*_: object) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                proc.kill()

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        sandbox = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "sandbox",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(sandbox_port),
            ],
            env=env,
        )
        procs.append(sandbox)
        if not _wait_healthy(f"http://127.0.0.1:{sandbox_port}/api/v1/health", sandbox, 600):
            print("massar-gateway: the sandbox backend did not start", file=sys.stderr)  # noqa: T201
            stop_all()
            return 1
        gateway = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gateway", "serve", "--port", str(gateway_port)], env=env
        )
        procs.append(gateway)
        while all(proc.poll() is None for proc in procs):
            time.sleep(0.5)
        return next(proc.returncode for proc in procs if proc.returncode is not None) or 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_demo = sub.add_parser("demo", help="run the sandbox backend and the gateway together")
    p_demo.set_defaults(func=demo)
