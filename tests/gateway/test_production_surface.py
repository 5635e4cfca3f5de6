"""The production surface, attacked (issue #21): the API's docs and schema are closed, the
metrics answer only their scrapers, and a self-chosen secret that a person typed by hand
(`aaaaaaaaaaaaaaaa`, `0123456789abcdef`) stops the start with the command that makes one."""

from __future__ import annotations

import contextlib
import io
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pydantic
import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.cli import main
from gateway.deps import runtime_of
from gateway.settings import Settings
from gateway.settings.secrets import COMMAND, SELF_CHOSEN, estimated_bits
from tests.databases import migrated
from tests.gateway.conftest import PUBLIC_URL, gateway_settings
from tests.gateway.test_settings import KANNEL, STRONG

METRICS_TOKEN = "Zk4q0S3v-Jc9eHq2yPpV_mWl7nT1xRbA5uDgK8oYsEi"
SCRAPER = "10.0.9.7"


@pytest.fixture
def production(tmp_path: Path, redis_url: str | None) -> Iterator[Callable[..., TestClient]]:
    """A production gateway (strong secrets, real Redis) seen from a given client address."""
    clients: list[TestClient] = []

    def make(address: str = "203.0.113.9", **overrides: object) -> TestClient:
        values = {k: v for k, v in STRONG.items() if k not in ("redis_url", "public_url")}
        settings = gateway_settings(
            tmp_path,
            redis_url,
            **{
                **values,
                "metrics_allowed_ips": f"{SCRAPER}/32",
                "metrics_token": METRICS_TOKEN,
                **overrides,
            },
        )
        client = TestClient(
            create_app(migrated(settings)), base_url=PUBLIC_URL, client=(address, 40000)
        )
        client.__enter__()
        clients.append(client)
        return client

    if redis_url is None:
        pytest.skip("production needs a real Redis (TEST_REDIS_URL)")
    yield make
    for client in clients:
        client.__exit__(None, None, None)


def test_docs_and_the_schema_are_closed_in_production(
    production: Callable[..., TestClient],
) -> None:
    client = production()
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        assert client.get(path).status_code == 404, path
    opened = production(api_docs=True)  # GATEWAY_API_DOCS=true
    assert opened.get("/openapi.json").status_code == 200
    assert opened.get("/docs").status_code == 200


def test_metrics_answer_only_their_scrapers_in_production(
    production: Callable[..., TestClient],
) -> None:
    stranger = production()
    assert stranger.get("/metrics").status_code == 403
    assert "massar_" not in stranger.get("/metrics").text
    wrong = {"Authorization": "Bearer " + METRICS_TOKEN[:-1] + "x"}
    assert stranger.get("/metrics", headers=wrong).status_code == 403
    assert stranger.get("/metrics", headers={"X-Forwarded-For": SCRAPER}).status_code == 403
    bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    assert stranger.get("/metrics", headers=bearer).status_code == 200
    assert production(SCRAPER).get("/metrics").status_code == 200
    # Without a token setting, a Bearer header opens nothing.
    no_token = production(metrics_token=None)
    assert no_token.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403


def test_a_refused_scrape_asks_nothing_of_redis_or_the_database(
    production: Callable[..., TestClient],
) -> None:
    """A scrape reads the engines (deploy/prometheus/rules.yml): a stranger's 403 comes
    before any of it, so /metrics is no way to make the gateway knock on Redis or SQL."""
    stranger = production()
    registry = runtime_of(stranger.app).metrics.registry
    for _ in range(3):
        assert stranger.get("/metrics").status_code == 403
    assert registry.get_sample_value("massar_store_up", {"part": "redis"}) is None
    assert registry.get_sample_value("massar_outbox_backlog", {"priority": "bulk"}) is None
    assert production(SCRAPER).get("/metrics").status_code == 200


@pytest.mark.parametrize("weak", ["aaaaaaaaaaaaaaaa", "0123456789abcdef", "abcxyz" * 8, "x"])
@pytest.mark.parametrize("name", sorted(SELF_CHOSEN))
def test_a_weak_self_chosen_secret_is_refused_naming_the_command(name: str, weak: str) -> None:
    values = {**KANNEL, "ussd_orange_token": STRONG["admin_token"], name: weak}
    with pytest.raises(pydantic.ValidationError) as refused:
        Settings(**values)  # type: ignore[arg-type]
    message = str(refused.value)
    reason = "is shorter than 16" if len(weak) < 16 else "is too weak"
    assert f"GATEWAY_{name.upper()} {reason}" in message
    assert COMMAND in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("telegram_bot_token", "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"),  # Telegram's docs
        ("telegram_bot_token", "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
    ],
)
def test_a_provider_token_is_refused_only_when_demo_or_known(name: str, value: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="documented example"):
        Settings(**{**STRONG, name: value})  # type: ignore[arg-type]
    # A real-looking one is not measured: issued by the provider, not chosen here.
    assert Settings(**{**STRONG, "twilio_auth_token": "0123456789abcdef0123456789abcdef"})


def test_the_secret_command_prints_one_that_production_accepts() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["secret"]) == 0
    made = out.getvalue().strip()
    assert len(made) >= 43
    assert estimated_bits(made) >= 128
    values = dict.fromkeys(SELF_CHOSEN & set(STRONG), made)
    assert Settings(**{**KANNEL, **values, "metrics_token": made})  # type: ignore[arg-type]
    assert estimated_bits(secrets.token_urlsafe(32)) >= 128
