"""Sandbox settings, read from `SANDBOX_*` environment variables (pydantic-settings)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Literal

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MOROCCO = timezone(timedelta(hours=1))
DEFAULT_NOW = datetime(2026, 5, 20, 10, 0, tzinfo=MOROCCO)
DEFAULT_API_TOKEN = "sandbox-token"  # noqa: S105 - the documented development default
DEFAULT_ADMIN_TOKEN = "sandbox-admin"  # noqa: S105


class SandboxSettings(BaseSettings):
    """Every knob of the sandbox; tests pass values to the initialiser, not the environment."""

    model_config = SettingsConfigDict(env_prefix="SANDBOX_", extra="ignore")

    database_url: str = "sqlite:///var/sandbox.db"
    db_schema: str | None = None  # PostgreSQL only: put the tables in this schema
    api_token: SecretStr = SecretStr(DEFAULT_API_TOKEN)
    admin_token: SecretStr = SecretStr(DEFAULT_ADMIN_TOKEN)
    env: Literal["development", "test", "production"] = "development"
    seed: int = 20260520
    now: datetime = DEFAULT_NOW
    host: str = "127.0.0.1"
    port: int = 8100
    students: int = 3000  # seeded by `serve` when the database is empty

    # Chaos (DOMAIN §8). All off by default; a profile or AUTO_PEAKS turns them on.
    profile: Literal["off", "normal", "rentree", "grade_deadline", "outage"] = "off"
    latency_median_ms: float = 0.0
    latency_p99_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_mix: str = "503:0.6,500:0.2,504:0.2"
    hang_rate: float = 0.0
    hang_seconds: float = 60.0
    down: bool = False
    flap: float = 0.0
    rate_limit_rps: float = 0.0
    auto_peaks: bool = False
    chaos_seed: int = 1
    test_headers: bool = False

    @field_validator("now")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=MOROCCO)
        return value.astimezone(MOROCCO)

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> SandboxSettings:
        if self.env == "production":
            if self.api_token.get_secret_value() in ("", DEFAULT_API_TOKEN):
                raise ValueError(
                    "SANDBOX_API_TOKEN must be set to a non-default value in production"
                )
            if self.admin_token.get_secret_value() in ("", DEFAULT_ADMIN_TOKEN):
                raise ValueError(
                    "SANDBOX_ADMIN_TOKEN must be set to a non-default value in production"
                )
        return self

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def admin_enabled(self) -> bool:
        return not self.production

    @property
    def force_header_enabled(self) -> bool:
        return self.test_headers and not self.production
