"""What every adapter shares: its errors, reading a form body, and Twilio's signature check.

```
ChannelError
 ├── SignatureError   -> 403, nothing read further
 └── PayloadError     -> 400 with a short reason (never a stack trace)
```
"""

from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import SecretStr
from starlette.datastructures import FormData, UploadFile
from twilio.request_validator import RequestValidator, get_signature_algorithm

from gateway.settings import Settings

MAX_BODY_BYTES = 32 * 1024  # a provider form is a few hundred bytes; 2,000 chars of text fit
# A provider's JSON is a few levels deep (Meta's: entry > changes > value > messages > …);
# deeper is an attack on the parser, refused before anything walks it.
MAX_JSON_DEPTH = 32


class ChannelError(Exception):
    """A request a channel refuses; `reason` is short, fixed and free of personal data."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignatureError(ChannelError):
    status = 403


class PayloadError(ChannelError):
    status = 400


async def read_form(request: Request) -> FormData:
    """The urlencoded body as a multi-dict (without python-multipart: providers send urlencoded)."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise PayloadError("body too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("body is not UTF-8") from None
    pairs: list[tuple[str, str | UploadFile]] = list(parse_qsl(text, keep_blank_values=True))
    return FormData(pairs)


def read_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A JSON body, at most `max_depth` arrays or objects deep; PayloadError otherwise (never
    a RecursionError: the decoder's own limit is caught, and the depth checked without
    recursion before any code walks the document)."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise PayloadError("not JSON") from None
    if json_depth(doc) > max_depth:
        raise PayloadError("JSON nested too deep")
    return doc


def json_depth(doc: Any) -> int:
    """How many arrays and objects deep `doc` is (a scalar: 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in node)
    return deepest


def fields(form: FormData) -> dict[str, str]:
    """The form's text fields, last value winning (what `parse_payload` functions read)."""
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


def same_secret(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; a missing secret on either side never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def is_setting(given: str | None, secret: SecretStr | None) -> bool:
    """`same_secret` against a secret setting (unset: nothing matches)."""
    return same_secret(given, secret.get_secret_value() if secret is not None else None)


def public_url(request: Request, settings: Settings) -> str:
    """The URL the provider called, rebuilt from GATEWAY_PUBLIC_URL (TLS ends at the proxy)."""
    url = settings.public_url + request.url.path
    query = request.url.query
    return f"{url}?{query}" if query else url


def verify_twilio(request: Request, form: FormData, settings: Settings) -> None:
    """`X-Twilio-Signature` over the public URL and every posted field (CHANNELS.md §7).

    With `X-Twilio-Webhooks-Signature-Settings`, the Webhook Rule's shared key and named
    algorithm (HMAC-SHA256) are used; otherwise the auth token with HMAC-SHA1.
    """
    signature = request.headers.get("x-twilio-signature")
    if not signature:
        raise SignatureError("missing signature")
    settings_header = request.headers.get("x-twilio-webhooks-signature-settings")
    if settings_header:
        secret = settings.twilio_webhook_shared_key
        algorithm: str | None = get_signature_algorithm(settings_header)
    else:
        secret, algorithm = settings.twilio_auth_token, None
    if secret is None or not secret.get_secret_value():
        raise SignatureError("no key configured")
    validator = RequestValidator(secret.get_secret_value())
    if not validator.validate(public_url(request, settings), form, signature, algorithm=algorithm):
        raise SignatureError("bad signature")
