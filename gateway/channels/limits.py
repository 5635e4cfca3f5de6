"""Bounded webhook bodies (issue #21): every `/channels/` route has a size limit, enforced
while the body streams in, before any signature check or parsing.

```
POST /channels/…  ──> BodyLimit ──> the route (signature, parse, turn)
                        │ Content-Length above the limit: 413 at once, nothing read
                        │ a streamed (chunked) body: counted chunk by chunk, 413 past the limit
                        └ within it: the body, read once, handed to the route as it came
```

A refused body is never read further and the connection is closed (`Connection: close`),
so a 200 MB POST costs the worker one chunk, not 200 MB. The limits are the ones the routes
had: Meta batches updates up to 1 MiB, Telegram and Kannel SMS 64 KiB, a provider's form
32 KiB; Kannel's USSD step cuts its body to 2 KiB and may be sent 8 KiB.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import structlog
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.channels import common, kannel_sms, meta_whatsapp, telegram
from gateway.channels.ussd import kannel as ussd_kannel

__all__ = ["DEFAULT_LIMIT", "LIMITS", "PREFIX", "BodyLimit", "install", "limit_for"]

log = structlog.get_logger("gateway.channels.limits")

PREFIX = "/channels/"
# The console's forms (sign-in, second factor, lookup, helpdesk answers, the simulator): each
# field is cut at 4,000 characters, at most 6 bytes each once form-encoded (Arabic), and two
# of the sign-in's forms are reached before any session: bounded like a webhook.
CONSOLE_PREFIX = "/console/"
CONSOLE_LIMIT = 64 * 1024
# A body that trickles in is cut off: a slow sender holds no connection and task for ever.
READ_TIMEOUT_S = 10.0
DEFAULT_LIMIT = common.MAX_BODY_BYTES  # Twilio's and Africa's Talking's forms, the voice menu
USSD_KANNEL_LIMIT = 8 * 1024  # the route keeps the first 2 KiB (`ussd_kannel.MAX_BODY_BYTES`)
LIMITS: dict[str, int] = {
    meta_whatsapp.ROUTE: meta_whatsapp.MAX_BODY_BYTES,
    telegram.ROUTE: telegram.MAX_BODY_BYTES,
    kannel_sms.ROUTE: kannel_sms.MAX_BODY_BYTES,
    ussd_kannel.ROUTE: USSD_KANNEL_LIMIT,
}


def limit_for(path: str) -> int | None:
    """The body limit of a route (bytes); None outside the webhooks and the console."""
    if path.startswith(CONSOLE_PREFIX):
        return CONSOLE_LIMIT
    if not path.startswith(PREFIX):
        return None
    return LIMITS.get(path.rstrip("/"), DEFAULT_LIMIT)


def install(app: FastAPI) -> None:
    """Bound the app's webhook bodies, and say so in its OpenAPI description (a 413 on every
    channel route that takes a body)."""
    app.add_middleware(BodyLimit)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        for path, operations in schema.get("paths", {}).items():
            limit = limit_for(path)
            for method in ("post", "put", "patch"):
                operation = operations.get(method)
                if limit is not None and operation is not None:
                    operation.setdefault("responses", {})["413"] = {
                        "description": f"Body over {limit} bytes: refused before its "
                        "signature is checked, the rest not read"
                    }
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


class BodyLimit:
    """ASGI middleware: reads a channel route's body up to its limit, or answers 413."""

    def __init__(self, app: ASGIApp, limits: Callable[[str], int | None] = limit_for) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limits(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(scope, send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        with anyio.move_on_after(READ_TIMEOUT_S) as reading:
            while True:
                message = await receive()
                if message["type"] != "http.request":  # the client left: nothing to answer
                    return
                chunk: bytes = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    await _too_large(scope, send, limit)
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if reading.cancelled_caught:
            await _refuse(scope, send, 408, b"body too slow", "body_too_slow")
            return
        body = b"".join(chunks)
        del chunks
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the client's disconnect

        await self.app(scope, replay, send)


def _content_length(scope: Scope) -> int | None:
    """The declared length; a malformed one counts as unknown (the stream is counted)."""
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            raw = value.decode("latin-1").strip()
            return int(raw) if raw.isdigit() and len(raw) < 19 else None
    return None


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    log.info("body_too_large", path=scope["path"], limit=limit)
    await _refuse(scope, send, 413, b"body too large", None)


async def _refuse(scope: Scope, send: Send, status: int, text: bytes, event: str | None) -> None:
    if event is not None:
        log.info(event, path=scope["path"])
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(text)).encode()),
        (b"connection", b"close"),  # the rest of the body is never read
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text, "more_body": False})
