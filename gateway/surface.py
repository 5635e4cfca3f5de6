"""Who may read the gateway's own surface besides the webhooks (issue #21): the metrics."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import Request

from gateway.settings import Env, Settings


def metrics_allowed(request: Request, settings: Settings) -> bool:
    """Outside production, anyone; in production, an address of GATEWAY_METRICS_ALLOWED_IPS
    or a request bearing GATEWAY_METRICS_TOKEN (`Authorization: Bearer …`)."""
    if settings.env is not Env.PRODUCTION:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    given = given.strip()
    if scheme.lower() == "bearer" and expected and given:
        return hmac.compare_digest(given.encode(), expected.encode())
    host = request.client.host if request.client is not None else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in settings.metrics_allowed_ips)
