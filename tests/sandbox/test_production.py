"""Production mode: default tokens refused, admin endpoints and X-Sandbox-Force disabled."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from sandbox.app import create_app
from sandbox.settings import SandboxSettings


def test_production_refuses_default_api_token() -> None:
    with pytest.raises(ValidationError, match="SANDBOX_API_TOKEN"):
        SandboxSettings(env="production", admin_token="a-real-admin-secret")


def test_production_refuses_default_admin_token() -> None:
    with pytest.raises(ValidationError, match="SANDBOX_ADMIN_TOKEN"):
        SandboxSettings(env="production", api_token="a-real-api-secret")


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_PORT", "8111")
    monkeypatch.setenv("SANDBOX_ERROR_RATE", "0.25")
    monkeypatch.setenv("SANDBOX_NOW", "2025-09-10T08:00:00+01:00")
    settings = SandboxSettings()
    assert (settings.port, settings.error_rate, settings.now.isoformat()) == (
        8111,
        0.25,
        "2025-09-10T08:00:00+01:00",
    )


def test_production_disables_admin_and_force_header(db_url: str) -> None:
    settings = SandboxSettings(
        database_url=db_url,
        env="production",
        api_token="api-secret-1",
        admin_token="admin-secret-1",
        test_headers=True,
    )
    with TestClient(create_app(settings)) as c:
        assert (
            c.get("/_sandbox/chaos", headers={"Authorization": "Bearer admin-secret-1"}).status_code
            == 404
        )
        assert (
            c.get(
                "/api/v1/meta",
                headers={"Authorization": "Bearer api-secret-1", "X-Sandbox-Force": "503"},
            ).status_code
            == 200
        )
        assert (
            c.get("/api/v1/meta", headers={"Authorization": "Bearer sandbox-token"}).status_code
            == 401
        )
        assert "/_sandbox/chaos" not in c.get("/openapi.json").json()["paths"]
