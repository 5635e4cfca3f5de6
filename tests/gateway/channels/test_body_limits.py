"""Webhook bodies, attacked (issue #21): a body past a route's limit gets 413 on every
channel route, declared or streamed, before its signature is looked at and without the rest
being read; a deeply nested JSON body on a signed route gets the provider's 200, never a 500.
The worker's memory under a 10 MB and a 200 MB body is measured by `bench/body_limit.py`."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import anyio
import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.channels import limits, meta_whatsapp, telegram
from gateway.channels.limits import CONSOLE_LIMIT, DEFAULT_LIMIT, BodyLimit, limit_for

META_SECRET = "demo-meta-app-secret"  # the test settings' defaults
TELEGRAM_SECRET = "demo-telegram-webhook-secret"
CHUNK = 64 * 1024
TEN_MB = 10 * 1024 * 1024
# What a provider's own signature header would be; each is wrong, so a route that checked it
# would answer 403 (Twilio, Meta, Telegram) or 403/400 (the Kannel and AT tokens).
BAD_SIGNATURES = {
    "x-twilio-signature": "bm90IGEgc2lnbmF0dXJl",
    "x-hub-signature-256": "sha256=" + "0" * 64,
    "x-telegram-bot-api-secret-token": "wrong",
}


def webhook_posts(client: TestClient) -> list[str]:
    """Every channel route that takes a POST in this app (all channels are on)."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return sorted(p for p, ops in paths.items() if "post" in ops and p.startswith("/channels/"))


def test_every_channel_route_has_a_limit(gateway: TestClient) -> None:
    paths = webhook_posts(gateway)
    assert len(paths) >= 12  # Twilio ×6, Meta, Telegram, Kannel ×2, AT…
    assert limit_for(meta_whatsapp.ROUTE) == 1024 * 1024  # Meta batches up to 1 MiB
    assert limit_for(telegram.ROUTE) == 64 * 1024
    assert all(limit_for(path) is not None for path in paths)
    assert limit_for("/console/signin") == CONSOLE_LIMIT  # reached before any session
    assert limit_for("/healthz") is None
    described = gateway.app.openapi()["paths"]  # type: ignore[attr-defined]
    assert all("413" in described[path]["post"]["responses"] for path in paths)


def test_a_declared_oversized_body_gets_413_before_the_signature(gateway: TestClient) -> None:
    for path in webhook_posts(gateway):
        limit = limit_for(path) or DEFAULT_LIMIT
        response = gateway.post(
            path,
            content=b"x" * (limit + 1),
            headers={"content-type": "application/x-www-form-urlencoded", **BAD_SIGNATURES},
        )
        assert response.status_code == 413, path  # not 403: the signature was never checked
        assert response.headers["connection"] == "close"


def test_a_content_length_alone_is_refused_without_reading_a_byte(gateway: TestClient) -> None:
    for path in webhook_posts(gateway):
        status, read = drive(gateway, path, chunks=iter([b"x" * CHUNK] * 200), declared=TEN_MB)
        assert (status, read) == (413, 0), path


def test_a_streamed_oversized_body_is_refused_without_reading_the_rest(
    gateway: TestClient,
) -> None:
    """No Content-Length (a chunked body): counted as it comes, 413 past the limit."""
    for path in webhook_posts(gateway):
        limit = limit_for(path) or DEFAULT_LIMIT
        body = (b"x" * CHUNK for _ in range(TEN_MB // CHUNK))
        status, read = drive(gateway, path, chunks=body, declared=None)
        assert status == 413, path
        assert read <= limit // CHUNK + 1, (path, read)  # one chunk past the limit, no more


def test_a_body_within_the_limit_reaches_the_route(gateway: TestClient) -> None:
    """Meta's limit is kept: a signed batch of almost 1 MiB is answered by the route."""
    doc = {"object": "whatsapp_business_account", "entry": [], "pad": ""}
    doc["pad"] = "x" * (1024 * 1024 - len(json.dumps(doc)))
    body = json.dumps(doc).encode()
    assert len(body) == 1024 * 1024
    response = gateway.post(
        meta_whatsapp.ROUTE, content=body, headers={"x-hub-signature-256": meta_signature(body)}
    )
    assert response.status_code == 200
    response = gateway.post(
        meta_whatsapp.ROUTE, content=body, headers={"x-hub-signature-256": "sha256=" + "0" * 64}
    )
    assert response.status_code == 403  # within the limit, the signature is checked


def test_an_oversized_console_form_gets_413_before_its_csrf_is_read(gateway: TestClient) -> None:
    """The sign-in forms are reached with no session: their bodies are bounded too."""
    for path in ("/console/signin", "/console/signin/totp", "/console/lookup"):
        body = b"name=amina&password=" + b"x" * CONSOLE_LIMIT
        response = gateway.post(
            path, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code == 413, path  # not 403 (CSRF) nor 400: never parsed


@pytest.mark.anyio
async def test_a_body_that_trickles_in_is_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sender that starts a body and never finishes it gets 408; the route never runs."""
    monkeypatch.setattr(limits, "READ_TIMEOUT_S", 0.05)
    reached: list[str] = []

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["path"])

    sent: list[Message] = []
    first = True

    async def receive() -> Message:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"x", "more_body": True}
        await anyio.sleep_forever()  # the rest never comes
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "path": "/channels/sms/twilio", "headers": []}
    with anyio.fail_after(5):  # without the guard's own timeout this would wait for ever
        await BodyLimit(route)(scope, receive, send)
    assert sent[0]["status"] == 408
    assert reached == []


@pytest.mark.parametrize("depth", [40, 100_000])
def test_nested_json_on_signed_routes_gets_the_providers_200(
    gateway: TestClient, depth: int
) -> None:
    """40 levels: parsed, refused by depth; 100,000: the decoder's own recursion limit."""
    body = b"[" * depth + b"]" * depth
    assert len(body) <= 1024 * 1024
    meta = gateway.post(
        meta_whatsapp.ROUTE, content=body, headers={"x-hub-signature-256": meta_signature(body)}
    )
    assert meta.status_code == 200  # Meta delivers again on anything else (CHANNELS.md)
    assert meta.text.startswith("ignored:")
    nested = {"update_id": 1, "message": {"x": json.loads(b"[" * 30 + b"]" * 30)}}
    shallower = min(depth, 30_000)  # Telegram's limit is 64 KiB
    tg_nested = b"[" * shallower + b"]" * shallower
    for tg_body in (tg_nested, json.dumps(nested).encode()):
        response = gateway.post(
            telegram.ROUTE,
            content=tg_body,
            headers={"x-telegram-bot-api-secret-token": TELEGRAM_SECRET},
        )
        assert response.status_code == 200
        assert response.text.startswith("ignored:")


def meta_signature(body: bytes) -> str:
    return "sha256=" + hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()


def drive(
    client: TestClient, path: str, *, chunks: Iterator[bytes], declared: int | None
) -> tuple[int, int]:
    """POST `chunks` to the app as a server would hand them over (ASGI messages, one at a
    time); the status answered and how many chunks the app asked for."""
    app: ASGIApp = client.app
    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"token=x",
        "headers": [(b"host", b"gateway.test"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("gateway.test", 443),
        "state": {},
    }
    read = 0
    statuses: list[int] = []

    async def receive() -> Message:
        nonlocal read
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def call() -> None:
        await app(scope, receive, send)

    client.portal.call(call)  # type: ignore[union-attr]
    return statuses[0], read
