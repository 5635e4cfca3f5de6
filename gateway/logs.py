"""Structured logs that never hold a full phone number, a Massar code, a name or a mark.

Every event passes through `redact` last: values under personal keys are dropped, phone numbers
and Massar codes inside any string are masked, and `phone_h(...)` gives a keyed hash to
correlate one caller's lines without storing the number. JSON in production, readable in dev.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import structlog

# Keys whose values are personal data or secrets: the value never reaches a log line.
REDACTED_KEYS = frozenset(
    {
        "authorization",
        "birth_date",
        "body",
        "child_birth_date",
        "dob",
        "first_name",
        "first_name_ar",
        "first_name_fr",
        "full_name",
        "grade",
        "grades",
        "last_name",
        "last_name_ar",
        "last_name_fr",
        "mark",
        "marks",
        "message",
        "name",
        "password",
        "score",
        "scores",
        "secret",
        "text",
        "token",
    }
)
REDACTED = "[redacted]"

# E.164 and national forms of phone numbers: +212612345678, 00212612345678, 212612345678,
# 0612345678, with optional spaces or dots between digit groups (not dashes: dates stay readable).
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d(?:[ .]?\d){7,14}(?!\w)")
# A Massar code: one letter and nine digits (`Z990000001`), alone or in an e-mail login.
_MASSAR_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][0-9]{9}(?![0-9])")


# An IPv4 address (no group with a leading zero, none above 255) has the shape of a dotted
# number: it stays readable (an engine's address in a start-up line), a phone does not.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")


def mask_phone(match: re.Match[str]) -> str:
    if _IPV4.fullmatch(match.group(0)):
        return match.group(0)
    digits = re.sub(r"\D", "", match.group(0))
    return "*" * (len(digits) - 2) + digits[-2:]


def mask_text(value: str) -> str:
    """Mask every phone number and Massar code inside `value`, keeping two trailing digits."""
    value = _MASSAR_CODE.sub(lambda m: m.group(0)[0] + "*******" + m.group(0)[-2:], value)
    return _PHONE.sub(mask_phone, value)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {
            k: REDACTED if str(k).lower() in REDACTED_KEYS else _scrub(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v) for v in value]
    return value


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: the last line of defence before a line is written."""
    for key in list(event_dict):
        if key.lower() in REDACTED_KEYS:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


def bare_url(url: str) -> str:
    """`url` for a log line: no `user:password@`, no query, no fragment (either may hold a
    token)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # not a number: the client refuses the URL when it first calls
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def phone_hash(key: bytes, phone: str) -> str:
    """A keyed hash of an E.164 number for log correlation (`phone_h`): 12 hex characters."""
    return hmac.new(key, phone.encode(), hashlib.sha256).hexdigest()[:12]


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at emit time (test capture swaps it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def _drop_color_message(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    event_dict.pop("color_message", None)
    return event_dict


class _FileHandler(logging.FileHandler):
    """The log file `configure` opened; the next `configure` closes it."""


def configure(*, json_logs: bool, level: str = "INFO", file: Path | None = None) -> None:
    """Route structlog and the standard library (uvicorn, httpx) through one redacting chain.

    Lines go to standard error, or only to `file` when one is given (its folder is created).
    """
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_logs
        else structlog.dev.ConsoleRenderer(colors=file is None and sys.stderr.isatty())
    )
    structlog.configure(
        # Below the level, stop before the chain runs: the redaction and the timestamp of a
        # line nobody will see cost a turn as much as one that is written.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler: logging.Handler
    if file is None:
        handler = _StderrHandler()
    else:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = _FileHandler(file, encoding="utf-8")
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            # uvicorn's `color_message` extra repeats its message with terminal escapes.
            foreign_pre_chain=[
                structlog.stdlib.ExtraAdder(allow=None),
                _drop_color_message,
                *shared[:-1],
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                redact,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old, _FileHandler):  # ours: an open file that nothing else would close
            old.close()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uv = logging.getLogger(name)
        uv.handlers[:] = []
        uv.propagate = True
        uv.disabled = False  # uvicorn's own dictConfig, if it ran first, leaves these set
        uv.setLevel(logging.NOTSET)
    # The app writes one canonical line per request; uvicorn's access line would repeat it.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # httpx logs full request URLs at INFO; keep it quiet unless something is wrong.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Each worker's schema check makes Alembic log its context and plugins at INFO: noise.
    logging.getLogger("alembic").setLevel(logging.WARNING)
