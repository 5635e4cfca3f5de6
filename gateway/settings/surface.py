"""Settings of what the gateway shows besides its webhooks (issue #21): the API's docs and
the Prometheus metrics, both closed to the public in production."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode


class SurfaceSettings(BaseSettings):
    # `/docs`, `/redoc` and `/openapi.json`; unset: on outside production, off in production.
    api_docs: bool | None = None
    # Production: `/metrics` answers only these addresses (the scraper's; the client address
    # as uvicorn sees it, behind a trusted proxy the forwarded one) or a request that bears
    # `Authorization: Bearer <GATEWAY_METRICS_TOKEN>`. Open outside production.
    metrics_allowed_ips: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("::1/128"),
    )
    metrics_token: SecretStr | None = None

    @field_validator("metrics_allowed_ips", mode="before")
    @classmethod
    def _split_metrics_networks(cls, value: object) -> object:
        """`GATEWAY_METRICS_ALLOWED_IPS=10.0.9.0/24,::1` (addresses or networks; empty: none)."""
        if isinstance(value, str):
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        return value
