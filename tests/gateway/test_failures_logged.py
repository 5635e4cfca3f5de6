"""A part that fails while the gateway runs gets one log line naming it and what to check;
the parent still gets the polite busy reply (issue 22)."""

from __future__ import annotations

from pathlib import Path

import httpx
import structlog
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.dialogs import texts
from gateway.failures import CHECKS, part_of
from gateway.i18n import translator
from tests.databases import migrated
from tests.gateway.conftest import PUBLIC_URL, SmsPhone, UssdPhone, gateway_settings

GUARDIAN = "+212600000001"
SANDBOX_ADMIN = {"Authorization": "Bearer sandbox-admin"}


def part_lines(logs: list[dict[str, object]]) -> list[dict[str, object]]:
    return [entry for entry in logs if entry["event"] == "part_down"]


def test_redis_down_names_redis_and_parents_get_the_busy_reply(
    tmp_path: Path, sandbox_app: object
) -> None:
    # Nothing listens on port 1: every Redis call is refused at once.
    settings = gateway_settings(tmp_path, "redis://127.0.0.1:1/0")
    transport = httpx.ASGITransport(app=sandbox_app)  # type: ignore[arg-type]
    app = create_app(migrated(settings), backend_transport=transport)
    with (
        TestClient(app, base_url=PUBLIC_URL) as client,
        structlog.testing.capture_logs() as logs,
    ):
        screen = UssdPhone(client, GUARDIAN).dial()
    assert screen == "END " + translator("ar").gettext(texts.BUSY)
    [line] = part_lines(logs)
    assert line["part"] == "redis"
    assert line["check"] == CHECKS["redis"]
    assert "GATEWAY_REDIS_URL" in str(line["check"])
    assert GUARDIAN[1:] not in repr(logs)


def test_backend_down_names_the_backend(gateway: TestClient, sandbox_app: object) -> None:
    sandbox = TestClient(sandbox_app)  # type: ignore[arg-type]
    assert (
        sandbox.put("/_sandbox/chaos", json={"down": True}, headers=SANDBOX_ADMIN).status_code
        == 200
    )
    with structlog.testing.capture_logs() as logs:
        answer = SmsPhone(gateway, GUARDIAN).send("ABS")
    # Massar cannot say the guardian's language: the script typed decides (French).
    assert answer == translator("fr").gettext(texts.BUSY)
    [line] = part_lines(logs)
    assert line["part"] == "backend"
    assert "GATEWAY_BACKEND_URL" in str(line["check"])
    assert GUARDIAN[1:] not in repr(logs)


def test_each_kind_of_failure_names_its_part() -> None:
    from redis.exceptions import ConnectionError as RedisDown
    from sqlalchemy.exc import OperationalError

    from backend_client.errors import BackendUnavailable
    from gateway.state.errors import unavailable

    # A store raises `StoreUnavailable` from the driver's error; it names the engine.
    assert part_of(unavailable(RedisDown())) == "redis"
    assert part_of(unavailable(OperationalError("select", {}, Exception("no table")))) == "database"
    assert part_of(BackendUnavailable(status=503, code="service-unavailable")) == "backend"
    assert part_of(ValueError()) is None
