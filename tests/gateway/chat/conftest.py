"""The chat-app channels' fixtures: a gateway with them on, replies left in the outbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from tests.databases import migrated
from tests.gateway.chat.handsets import (
    META_SECRET,
    META_VERIFY,
    TELEGRAM_SECRET,
    ChatGateway,
)
from tests.gateway.conftest import PUBLIC_URL, gateway_settings


@pytest.fixture
def make_chat_gateway(
    tmp_path: Path, redis_url: str | None, sandbox_app: object
) -> Iterator[Callable[..., ChatGateway]]:
    clients: list[TestClient] = []

    def make(**overrides: object) -> ChatGateway:
        values: dict[str, object] = {
            "meta_app_secret": META_SECRET,
            "meta_verify_token": META_VERIFY,
            "telegram_webhook_secret": TELEGRAM_SECRET,
            "embedded_sender": False,
            **overrides,
        }
        settings = migrated(gateway_settings(tmp_path, redis_url, **values))
        transport = httpx.ASGITransport(app=sandbox_app)  # type: ignore[arg-type]
        client = TestClient(create_app(settings, backend_transport=transport), base_url=PUBLIC_URL)
        client.__enter__()
        clients.append(client)
        return ChatGateway(client)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def chat(make_chat_gateway: Callable[..., ChatGateway]) -> ChatGateway:
    return make_chat_gateway()
