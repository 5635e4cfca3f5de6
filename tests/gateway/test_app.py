"""The app factory: liveness, readiness with its JSON detail, and the request id."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.deps import runtime_of
from gateway.settings import Settings
from tests.databases import migrated

Handler = Callable[[httpx.Request], httpx.Response]


def healthy_backend(request: httpx.Request) -> httpx.Response:
    assert request.url.path == "/api/v1/health"
    assert request.headers["authorization"] == "Bearer sandbox-token"
    return httpx.Response(200, json={"status": "ok"})


def down_backend(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        503,
        headers={"content-type": "application/problem+json", "retry-after": "300"},
        json={"type": "about:blank", "title": "down", "status": 503, "code": "service-unavailable"},
    )


@pytest.fixture
def make_client(
    tmp_path: pytest.TempPathFactory, redis_url: str | None
) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(handler: Handler = healthy_backend, **overrides: object) -> TestClient:
        values: dict[str, object] = {
            "env": "test",
            "redis_url": redis_url,
            "database_url": f"sqlite:///{tmp_path}/gateway.db",
            **overrides,
        }
        settings = Settings(**values)  # type: ignore[arg-type]
        app = create_app(migrated(settings), backend_transport=httpx.MockTransport(handler))
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def test_healthz_answers_without_dependencies(make_client: Callable[..., TestClient]) -> None:
    response = make_client(down_backend).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.redis
def test_readyz_reports_each_dependency(
    make_client: Callable[..., TestClient], redis_url: str | None
) -> None:
    response = make_client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"redis", "database"}  # what readiness is made of
    assert set(body["info"]) == {"backend", "breaker"}  # shown, never counted
    assert body["info"]["breaker"] == {"ok": True, "state": "closed"}
    assert body["info"]["backend"]["ok"] is True
    assert all(check["ok"] for check in body["checks"].values())
    expected_kind = "redis" if redis_url else "in-process stand-in (fakeredis)"
    assert body["checks"]["redis"]["kind"] == expected_kind
    assert body["checks"]["database"]["kind"] == "sqlite"


def test_readyz_stays_200_when_the_backend_is_down(make_client: Callable[..., TestClient]) -> None:
    response = make_client(down_backend).get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["info"]["backend"] == {"ok": False, "error": "BackendUnavailable"}
    assert body["checks"]["redis"]["ok"] is True


@pytest.mark.redis
def test_readyz_stays_200_with_massar_unreachable_and_the_breaker_open(
    tmp_path: Path, redis_url: str | None
) -> None:
    """A load balancer that follows /readyz keeps every gateway in rotation while Massar is
    down: the gateway answers from its cache and promises the rest by SMS."""
    settings = Settings(
        env="test",  # type: ignore[arg-type]
        redis_url=redis_url,
        database_url=f"sqlite:///{tmp_path}/gateway.db",
        backend_url=f"http://127.0.0.1:{closed_port()}/api/v1",  # nothing listens: refused
        identity_key=f"readyz-{uuid.uuid4().hex}",  # type: ignore[arg-type]
        breaker_failures=2,
        breaker_cooldown_s=600,
    )
    with TestClient(create_app(migrated(settings))) as client:
        breaker = runtime_of(client.app).backend.breaker
        for _ in range(2):  # two failed calls, as the turns would record them
            client.portal.call(breaker.record, False)  # type: ignore[union-attr]
        response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["info"]["breaker"] == {"ok": False, "state": "open"}
    assert body["info"]["backend"]["ok"] is False
    assert body["info"]["backend"]["error"] in {"BackendUnavailable", "BackendTimeout"}
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "redis": True,
        "database": True,
    }


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_readyz_is_503_when_redis_does_not_answer(make_client: Callable[..., TestClient]) -> None:
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    response = make_client(redis_url="redis://127.0.0.1:1/0").get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unready"
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_an_in_process_sender_without_redis_does_not_take_the_app_down(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(redis_url="redis://127.0.0.1:1/0", embedded_sender=True)
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503  # Redis is what is missing, and it says so


def test_request_id_is_echoed_or_made(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    assert client.get("/healthz", headers={"X-Request-ID": "abc123"}).headers["x-request-id"] == (
        "abc123"
    )
    assert len(client.get("/healthz").headers["x-request-id"]) == 16


def test_openapi_describes_the_ops_routes(make_client: Callable[..., TestClient]) -> None:
    paths = make_client().get("/openapi.json").json()["paths"]
    assert {"/healthz", "/readyz"} <= set(paths)
    ready = paths["/readyz"]["get"]
    assert ready["summary"] == "Readiness: can take traffic (Redis and database answer)"
    assert "never makes this fail" in ready["description"]
    assert "503" in ready["responses"]
