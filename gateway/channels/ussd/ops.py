"""The SMPP `ussd_service_op` values of an operator's USSD gateway, which differ by vendor
(CHANNELS.md §15.A3), as `GATEWAY_USSD_KANNEL_OPS` gives them (the settings keep the text;
`gateway/checks.py` parses it once at start-up, so a bad value stops the gateway there)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from gateway.settings import SMSC_ID

_NAMES = ("new", "continue", "end", "response")


@dataclass(frozen=True, slots=True)
class UssdOps:
    """`new` opens a session (PSSR indication), `continue` carries the user's answer (USSR
    confirm), `end` closes it (PSSR response; from the network: it aborted), `response` is a
    screen that waits for input (USSR request). `smsc` is the Kannel link; None: the default."""

    smsc: str | None = None
    new: int = 1
    continue_: int = 18
    end: int = 17
    response: int = 2

    @classmethod
    def parse(cls, entry: str) -> UssdOps:
        """`IAM-USSD:new=1,continue=18,end=17,response=2`, or without `IAM-USSD:` for every
        link no entry names; values in decimal or 0x hex, missing ones as above."""
        head, sep, rest = entry.strip().partition(":")
        smsc, pairs = (head, rest) if sep and "=" not in head else (None, entry.strip())
        values: dict[str, int] = {}
        for pair in filter(None, (p.strip() for p in pairs.split(","))):
            name, _, raw = (part.strip() for part in pair.partition("="))
            if name not in _NAMES:
                raise ValueError(f"USSD op must be one of {', '.join(_NAMES)}: {name!r}")
            try:
                value = int(raw, 0)
            except ValueError:
                raise ValueError(f"USSD op {name} must be a number: {raw!r}") from None
            if not 0 <= value <= 255:
                raise ValueError(f"USSD op {name} must fit one octet: {value}")
            values[name.replace("continue", "continue_")] = value
        ops = cls(smsc, **values)
        if len({ops.new, ops.continue_, ops.end}) < 3:
            raise ValueError(f"USSD ops new, continue and end must differ: {entry!r}")
        return ops


@cache
def parse_ops(text: str) -> tuple[UssdOps, ...]:
    """`GATEWAY_USSD_KANNEL_OPS`: `;`-separated `UssdOps` entries (raises ValueError)."""
    table = tuple(UssdOps.parse(part) for part in text.split(";") if part.strip())
    for ops in table:
        if ops.smsc is not None and not SMSC_ID.fullmatch(ops.smsc):
            raise ValueError(f"USSD ops smsc must be a Kannel smsc-id: {ops.smsc!r}")
    return table


def ops_for(text: str, smsc: str | None) -> UssdOps:
    """The `ussd_service_op` values of Kannel link `smsc` under `GATEWAY_USSD_KANNEL_OPS`."""
    named = {ops.smsc: ops for ops in parse_ops(text)}
    return named.get(smsc) or named.get(None) or UssdOps()
