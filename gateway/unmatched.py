"""The `unmatched` command's reading of `--since`: the messages themselves are kept by
`gateway.state.unmatched`."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNITS = {"": 86400, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: str) -> int:
    """'7d' -> 604800 seconds; a bare number is days; units s m h d w."""
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"not a duration: {value!r} (e.g. 7d, 12h, 30m)")
    return int(match.group(1)) * _UNITS[match.group(2)]
