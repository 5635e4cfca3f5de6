"""`python -m tests.kannel.console`: a Kannel for `make run` with GATEWAY_SMS_SENDER=kannel.

Kannel runs deploy/kannel/kannel.conf with a fake IAM link (tests/kannel/harness.py), sendsms
on 13013 (the gateway's default GATEWAY_KANNEL_SENDSMS_URL) with the gateway's demo password,
and posts to the gateway with its demo callback token. Type `<phone> <text>` to text the short
code 2020; what Kannel sends to phones is printed as it arrives. Ctrl-D or Ctrl-C stops it.
With `--ussd`, dial the USSD code instead (`tests/kannel/ussd_console.py`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.kannel import harness, ussd_console


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.kannel.console", description=__doc__)
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--sendsms-port", type=int, default=13013)
    parser.add_argument(
        "--ussd", action="store_true", help="dial the USSD code instead (tests/kannel/smsc.py)"
    )
    args = parser.parse_args(argv)
    reason = harness.missing()
    if reason is not None:
        sys.stderr.write(f"{reason}\n")
        return 1
    out = sys.stdout
    if args.ussd:
        return ussd_console.dial(args.gateway, out)
    with (
        tempfile.TemporaryDirectory(prefix="kannel-") as folder,
        harness.run_kannel(
            Path(folder),
            gateway_url=args.gateway,
            token="demo-kannel-callback-token",  # the gateway's demo defaults
            sendsms_password="demo-kannel-sendsms-password",
            log_level=2,
            sendsms_port=args.sendsms_port,
        ) as kannel,
    ):
        fake = kannel.links["IAM"]
        out.write(f"Kannel up: sendsms {kannel.sendsms_url}, posting to {args.gateway}\n")
        out.write("type: +212600000001 ABS   (Ctrl-D to stop)\n")
        stop = threading.Event()

        def show() -> None:
            shown = 0
            while not stop.is_set():
                found = fake.received()
                for mt in found[shown:]:
                    out.write(f"[SMS {mt.sender} -> {mt.to}] {mt.text}\n")
                    out.flush()
                shown = len(found)
                time.sleep(0.2)

        threading.Thread(target=show, daemon=True).start()
        try:
            for line in sys.stdin:
                phone, _, text = line.strip().partition(" ")
                if phone and text:
                    fake.send(phone, "2020", text)
        except KeyboardInterrupt:
            pass
        stop.set()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
