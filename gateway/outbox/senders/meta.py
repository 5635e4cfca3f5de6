"""WhatsApp Cloud API (Meta), outbound: one Graph API call per `send` (CHANNELS.md §3, §12).

```
POST {GATEWAY_META_GRAPH_URL}/{phone_number_id}/messages     Authorization: Bearer <token>
{"messaging_product": "whatsapp", "to": "212600000001", "type": "interactive",
 "interactive": {"type": "button", "body": {"text": "…"}, "action": {"buttons": [
   {"type": "reply", "reply": {"id": "abs", "title": "Absences"}}]}}}
200 {"messages": [{"id": "wamid.…"}], …}                    -> Receipt("wamid.…")
400 {"error": {"code": 131047, "message": "Re-engagement message", …}}
                                             -> SendError("meta:131047"), never retried
```
Options are drawn natively: up to 3 as reply buttons (title ≤20), up to 10 as a list (row
title ≤24, description ≤72, its button ≤20), more as numbered text. Titles are cut at a word
(`shorten`); a row whose title was cut shows the whole label in its description. A tapped
button or row comes back with the option's id (`gateway/channels/meta_whatsapp.py`).
An alert to a parent whose 24-hour window is closed (`senders/window.py`) goes out as its
approved template instead (`gateway/alerts/templates.py`):
```
{"messaging_product": "whatsapp", "to": "212600000001", "type": "template",
 "template": {"name": "massar_absence_full", "language": {"code": "fr"}, "components": [
   {"type": "body", "parameters": [{"type": "text", "text": "Youssef"}, …]}]}}
```
Errors: 429, 5xx and Meta's throttling codes are retried (after `Retry-After` when given);
the 24-hour window (131047), an undeliverable or unknown number and every other refusal are
permanent. The request goes out on the app's shared `httpx.AsyncClient` (tests give it a
`MockTransport`); nothing here logs a number or a text.
Docs: https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-reply-buttons-messages,
https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import httpx
import structlog

from gateway.dialogs import texts
from gateway.dialogs.model import Option
from gateway.dialogs.pages import shorten
from gateway.i18n import translator
from gateway.outbox.model import OutMessage, Receipt, SendError, TemplateCall
from gateway.outbox.senders.base import require, sms_text, transport_error
from gateway.outbox.senders.twilio import retry_after_s
from gateway.outbox.senders.window import Window, template_of
from gateway.text import script_of

__all__ = ["MetaSender", "classify", "payload", "template_payload"]

log = structlog.get_logger("gateway.outbox.meta")

TIMEOUT: Final = httpx.Timeout(connect=3.0, read=10.0, write=5.0, pool=5.0)
MAX_TEXT: Final = 4096
MAX_BODY: Final = 1024  # an interactive message's body
MAX_BUTTONS: Final = 3
MAX_ROWS: Final = 10
BUTTON_TITLE: Final = 20
ROW_TITLE: Final = 24
ROW_DESCRIPTION: Final = 72
MAX_ID: Final = 200  # list rows take 200, buttons 256
# Meta's throttling and "try later" codes (Graph API 4, 80007; Cloud API 130429 throughput,
# 131056 pair rate, 131000/131016/133004 temporary failures): wait, then try again.
RETRYABLE_CODES: Final = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056, 133004})


def _body(text: str) -> str:
    return text if len(text) <= MAX_BODY else shorten(text, MAX_BODY)


def payload(msg: OutMessage) -> dict[str, Any]:
    """The Graph API body for `msg`, options drawn as buttons, a list or numbered text."""
    base: dict[str, Any] = {"messaging_product": "whatsapp", "to": msg.to.removeprefix("+")}
    options = [o for o in msg.options if o.id and len(o.id) <= MAX_ID]
    if not options or len(options) > MAX_ROWS or len(options) != len(msg.options):
        text = sms_text(msg)[:MAX_TEXT]
        return {**base, "type": "text", "text": {"body": text, "preview_url": False}}
    if len(options) <= MAX_BUTTONS:
        buttons = [
            {"type": "reply", "reply": {"id": o.id, "title": shorten(o.label, BUTTON_TITLE)}}
            for o in options
        ]
        interactive: dict[str, Any] = {
            "type": "button",
            "body": {"text": _body(msg.text)},
            "action": {"buttons": buttons},
        }
    else:
        lang = script_of(msg.text) or "ar"
        label = translator(lang).gettext(texts.OPTIONS)
        interactive = {
            "type": "list",
            "body": {"text": _body(msg.text)},
            "action": {
                "button": shorten(label, BUTTON_TITLE),
                "sections": [{"rows": [_row(o) for o in options]}],
            },
        }
    return {
        **base,
        "recipient_type": "individual",
        "type": "interactive",
        "interactive": interactive,
    }


def template_payload(to: str, template: TemplateCall) -> dict[str, Any]:
    """The Graph API body of an approved template with its body parameters."""
    body: dict[str, Any] = {"name": template.name, "language": {"code": template.lang}}
    if template.params:
        parameters = [{"type": "text", "text": value} for value in template.params]
        body["components"] = [{"type": "body", "parameters": parameters}]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.removeprefix("+"),
        "type": "template",
        "template": body,
    }


def _row(option: Option) -> dict[str, str]:
    title = shorten(option.label, ROW_TITLE)
    row = {"id": option.id, "title": title}
    if title != option.label:
        row["description"] = shorten(option.label, ROW_DESCRIPTION)
    return row


def classify(status: int, body: object, headers: httpx.Headers) -> SendError:
    """The `SendError` of a non-2xx answer from the Graph API."""
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    if status == 429 or status >= 500 or code in RETRYABLE_CODES:
        name = f"meta:{code}" if code is not None else f"http:{status}"
        wait = retry_after_s(headers.get("Retry-After"), datetime.now(UTC))
        return SendError(name, retryable=True, retry_after_s=wait)
    return SendError(f"meta:{code}" if code is not None else f"http:{status}", retryable=False)


class MetaSender:
    """Sends WhatsApp messages through Meta's Graph API; a `Sender` (senders/base.py)."""

    name = "meta"

    def __init__(
        self,
        *,
        access_token: str,
        phone_number_id: str,
        graph_url: str,
        http: httpx.AsyncClient,
        timeout: httpx.Timeout = TIMEOUT,
        window: Window | None = None,
    ) -> None:
        """`window`: where the parents' 24-hour windows are read (None: no template)."""
        require(access_token=access_token, phone_number_id=phone_number_id, graph_url=graph_url)
        self._url = f"{graph_url}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._http = http
        self._timeout = timeout
        self._window = window

    def __repr__(self) -> str:
        return f"MetaSender(url={self._url!r})"  # never the token

    async def send(self, msg: OutMessage) -> Receipt:
        template = await template_of(msg, self._window)
        label = template.label if template is not None else None
        doc = template_payload(msg.to, template) if template is not None else payload(msg)
        try:
            receipt = await self._post(msg, doc)
        except SendError as exc:
            exc.template = label
            raise
        return Receipt(provider_id=receipt.provider_id, template=label)

    async def _post(self, msg: OutMessage, doc: dict[str, Any]) -> Receipt:
        try:
            response = await self._http.post(
                self._url, json=doc, headers=self._headers, timeout=self._timeout
            )
        except httpx.TransportError as exc:
            raise self._failed(msg, transport_error(exc)) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if not response.is_success:
            raise self._failed(msg, classify(response.status_code, body, response.headers))
        messages = body.get("messages") if isinstance(body, dict) else None
        wamid = messages[0].get("id") if isinstance(messages, list) and messages else None
        if not isinstance(wamid, str) or not wamid:
            # Meta took the request (2xx) but its answer names no message: sending it again
            # could reach the parent twice, so it is recorded as failed, not retried.
            raise self._failed(msg, SendError("bad_response", retryable=False))
        # Records keep 64 characters of a provider id; statuses are matched on the same cut.
        return Receipt(provider_id=wamid[:64])

    def _failed(self, msg: OutMessage, error: SendError) -> SendError:
        log.warning("meta_failed", outbox_id=msg.id, code=error.code, retryable=error.retryable)
        return error

    async def aclose(self) -> None:
        """Nothing to release: `http` is the caller's."""
