"""WhatsApp Cloud API (Meta): the subscription check, messages and statuses (CHANNELS.md §3).

`GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` echoes the challenge when the
token is ours (constant time), else 403. `POST` carries `X-Hub-Signature-256: sha256=<hex>`,
HMAC-SHA256 of the raw body with the app secret, checked before the body is parsed:

    {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
      "field": "messages", "value": {"metadata": {"phone_number_id": "…"},
        "messages": [{"from": "212600000001", "id": "wamid.…", "type": "text",
                      "text": {"body": "ABS"}}],
        "statuses": [{"id": "wamid.…", "status": "delivered", "recipient_id": "…"}]}}]}]}

A message is a typed text, a tapped reply button (`interactive.button_reply.id`), a list row
(`interactive.list_reply.id`) or a template's quick reply (`button.payload`): the ids are the
options' own. The turn runs within the request; its reply is queued in the outbox (Meta takes
no reply in the webhook's answer) under a key from the `wamid`, and a `wamid` seen in the last
7 days is not run again (Meta delivers at least once, and retries for days: the marker is
`gateway.state.meta`'s). Every message notes when the parent's 24-hour window opened (its
`timestamp`, `gateway.state.whatsapp`). Statuses move the outbox's records by the `wamid` we
sent. Anything else gets a 200 (nothing would change on a retry); a store that fails gets a
503, and Meta delivers again.
Docs: https://developers.facebook.com/docs/graph-api/webhooks/getting-started,
https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import SecretStr

from gateway.channels.chat import (
    WHATSAPP_META_PROFILE,
    ChatInput,
    note_whatsapp_inbound,
    queue_notice,
    reply_message,
    run_and_queue,
    say,
    try_again,
    user_lang,
)
from gateway.channels.common import PayloadError, SignatureError, is_setting, read_json
from gateway.deps import runtime
from gateway.dialogs import texts
from gateway.dialogs.model import ChannelKind
from gateway.outbox.model import OutChannel
from gateway.phones import to_e164
from gateway.state.errors import StoreError, StoreUnavailable
from gateway.state.meta import MetaSeen

log = structlog.get_logger("gateway.channels.meta")

ROUTE = "/channels/whatsapp/meta"
MAX_BODY_BYTES = 1024 * 1024  # Meta batches changes; a text is at most 4,096 characters
READABLE_TYPES = frozenset({"text", "interactive", "button"})
RECORD_STATUS = frozenset({"sent", "delivered", "read", "failed"})


@dataclass(frozen=True, slots=True, kw_only=True)
class MetaMessage:
    input: ChatInput
    readable: bool  # False: an image, a voice note, a sticker, a location, a reaction…
    sent_at: datetime | None = None  # Meta's `timestamp`: when the parent sent it


@dataclass(frozen=True, slots=True, kw_only=True)
class MetaStatus:
    wamid: str
    status: str
    error: str | None  # `meta:<code>` when failed


def verify_signature(body: bytes, header: str | None, secret: SecretStr | None) -> None:
    """`X-Hub-Signature-256` over the raw bytes, keyed with the app secret, constant time."""
    if not header or not header.startswith("sha256="):
        raise SignatureError("missing signature")
    key = secret.get_secret_value() if secret is not None else ""
    if not key:
        raise SignatureError("no key configured")
    expected = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(header.removeprefix("sha256=").strip().encode(), expected.encode()):
        raise SignatureError("bad signature")


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def parse_message(item: dict[str, Any]) -> MetaMessage | None:
    """One entry of `messages[]`; None when it has no sender or id we can use."""
    wamid, phone = _text(item.get("id")), to_e164(_text(item.get("from")))
    if not wamid or len(wamid) > 256 or phone is None:
        return None
    kind = _text(item.get("type"))
    text, option_id = "", None
    if kind == "text":
        text = _text((item.get("text") or {}).get("body"))
    elif kind == "interactive":
        inter = item.get("interactive") or {}
        reply = inter.get("button_reply") or inter.get("list_reply") or {}
        option_id = _text(reply.get("id")) or None
    elif kind == "button":
        option_id = _text((item.get("button") or {}).get("payload")) or None
    readable = kind in READABLE_TYPES and bool(text.strip() or option_id)
    msg = ChatInput(message_id=wamid, phone=phone, text=text, option_id=option_id)
    return MetaMessage(input=msg, readable=readable, sent_at=_sent_at(item.get("timestamp")))


def _sent_at(value: object) -> datetime | None:
    """Meta's `timestamp` (seconds since the epoch, as a string)."""
    text = _text(value)
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        return None
    return datetime.fromtimestamp(int(text), UTC)


def parse_status(item: dict[str, Any]) -> MetaStatus | None:
    wamid, status = _text(item.get("id")), _text(item.get("status"))
    if not wamid or status not in RECORD_STATUS:
        return None
    errors = _dicts(item.get("errors"))
    code = errors[0].get("code") if errors else None
    error = f"meta:{code}"[:64] if status == "failed" and isinstance(code, int) else None
    if status == "failed" and error is None:
        error = "meta:failed"
    return MetaStatus(wamid=wamid[:64], status=status, error=error)  # as the sender records it


def parse_notification(doc: object) -> tuple[list[MetaMessage], list[MetaStatus]]:
    """The messages and statuses of one notification, in order; unknown parts skipped."""
    messages: list[MetaMessage] = []
    statuses: list[MetaStatus] = []
    if not isinstance(doc, dict) or doc.get("object") != "whatsapp_business_account":
        return messages, statuses
    for entry in _dicts(doc.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            messages += [m for m in map(parse_message, _dicts(value.get("messages"))) if m]
            statuses += [s for s in map(parse_status, _dicts(value.get("statuses"))) if s]
    return messages, statuses


def reply_key(wamid: str) -> str:
    return f"reply:meta:{wamid}"


router = APIRouter(tags=["channels"])
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Bad signature or verify token"},
    503: {"description": "The store or the queue is unreachable; Meta delivers again"},
}


@router.get(ROUTE, summary="Meta WhatsApp subscription check", response_class=PlainTextResponse)
async def whatsapp_meta_verify(request: Request) -> Response:
    query = request.query_params
    token = runtime(request).settings.meta_verify_token
    if query.get("hub.mode") != "subscribe" or not is_setting(query.get("hub.verify_token"), token):
        return PlainTextResponse("forbidden", status_code=403)
    return PlainTextResponse(query.get("hub.challenge", "")[:256])


@router.post(ROUTE, summary="Meta WhatsApp messages and statuses", responses=ERRORS)
async def whatsapp_meta(request: Request) -> Response:
    state = runtime(request)
    body = await request.body()
    try:
        verify_signature(
            body, request.headers.get("x-hub-signature-256"), state.settings.meta_app_secret
        )
    except SignatureError as exc:
        log.info("meta_refused", reason=exc.reason)
        return PlainTextResponse(exc.reason, status_code=403)
    try:  # its size was bounded before the signature (`limits.BodyLimit`)
        doc = read_json(body)
    except PayloadError as exc:
        return PlainTextResponse(f"ignored: {exc.reason}")  # Meta expects a 200 (§3)
    messages, statuses = parse_notification(doc)
    now = datetime.now(UTC)
    for status in statuses:
        try:
            await state.records.status_callback(status.wamid, status.status, status.error, now)
        except StoreUnavailable:
            return try_again()
        state.metrics.delivery_reports.labels(
            channel="whatsapp", link="meta", status=status.status
        ).inc()
    for msg in messages:
        failed = await _answer(request, msg, now)
        if failed is not None:
            return failed
    return Response(status_code=200)


async def _answer(request: Request, msg: MetaMessage, now: datetime) -> Response | None:
    state = runtime(request)
    seen = MetaSeen(state.redis, state.sessions.keys)
    try:
        if await seen.seen(msg.input.message_id):
            log.info("meta_redelivered")
            return None
    except StoreError:
        return try_again()
    to, key = msg.input.phone, reply_key(msg.input.message_id)
    # The window opens when the parent wrote, not when Meta (re)delivered it; never later
    # than now, whatever the timestamp says.
    await note_whatsapp_inbound(request, to, min(msg.sent_at or now, now))
    if msg.readable:
        failed = await run_and_queue(
            request, profile=WHATSAPP_META_PROFILE, msg=msg.input, to=to, key=key, now=now
        )
    else:
        lang = await user_lang(state.sessions, ChannelKind.WHATSAPP, to)
        text = say(lang, texts.UNSUPPORTED_MESSAGE)
        notice = reply_message(channel=OutChannel.WHATSAPP, to=to, key=key, text=text, now=now)
        failed = await queue_notice(request, notice)
    if failed is None:
        # Unmarked, the turn still remembers its answer and the key stops a second send.
        with contextlib.suppress(StoreError):
            await seen.mark(msg.input.message_id)
    return failed
