"""`python -m tests.kannel.console --ussd`: dial the gateway's USSD code through a real
Kannel, for `make run`.

Kannel runs deploy/kannel/kannel.conf with its `IAM-USSD` link bound to the test SMPP SMSC
(`tests/kannel/smsc.py`), which plays the operator's USSD gateway, and posts to the gateway
with its demo callback token. Type `dial +212600000001` to open a session, then the keys
(`1`, `Z990000001`, …); `abort` ends it as the network would. Ctrl-D or Ctrl-C stops it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TextIO

from tests.kannel import harness
from tests.kannel.conftest import wait_for
from tests.kannel.smsc import ITS_SESSION_INFO, run_smsc, wait_bound

NEW, CONTINUE, END = 0x01, 0x12, 0x11  # the gateway's default ussd_service_op values


def dial(gateway: str, out: TextIO) -> int:
    """The USSD session loop of `python -m tests.kannel.console --ussd`."""
    with (
        tempfile.TemporaryDirectory(prefix="kannel-ussd-") as folder,
        run_smsc(harness.free_port()) as smsc,
        harness.run_kannel(
            Path(folder),
            gateway_url=gateway,
            token="demo-kannel-callback-token",  # the gateway's demo defaults
            sendsms_password="demo-kannel-sendsms-password",
            operators=(),
            smpp={"IAM-USSD": smsc.port},
            log_level=2,
        ),
    ):
        wait_bound(smsc)
        out.write(f"Kannel up, posting to {gateway}: type `dial +212600000001`\n")
        phone, number, sequence = "", 0, 0
        try:
            for line in sys.stdin:
                words = line.split()
                if not words:
                    continue
                if words[0] == "dial" and len(words) == 2:
                    phone, number, sequence = words[1].removeprefix("+"), (number + 1) % 256, 0
                    op, text, end = NEW, "*2020#", False
                elif not phone:
                    out.write("dial first: `dial +212600000001`\n")
                    continue
                elif words == ["abort"]:
                    op, text, end = END, "", True
                else:
                    op, text, end = CONTINUE, line.strip(), False
                before = len(smsc.received())
                session = bytes([number, (sequence << 1) | int(end)])
                sequence += 1
                smsc.deliver(phone, text, op=op, session=session)
                if end:
                    out.write("(session aborted by the network: no screen)\n")
                    continue
                [screen] = wait_for(lambda b=before: smsc.received()[b:], "the screen")
                last = screen.tlvs.get(ITS_SESSION_INFO, b"\0\0")[1] & 0x01
                out.write(f"{screen.text}\n{'[end of session]' if last else '> '}\n")
                out.flush()
        except KeyboardInterrupt:
            pass
    return 0
