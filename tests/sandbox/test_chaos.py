"""Peak-load and outage simulation: forced outcomes, down switch, errors, throttling, profiles."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from sandbox.app import create_app
from sandbox.chaos import peak_profile
from sandbox.settings import MOROCCO, SandboxSettings
from tests.sandbox.conftest import ADMIN, API, assert_problem


def test_forced_503_carries_retry_after(client: TestClient) -> None:
    r = client.get("/api/v1/meta", headers={**API, "X-Sandbox-Force": "503"})
    assert_problem(r, 503, "service-unavailable")
    assert r.headers["retry-after"] == "300"
    assert r.headers["x-request-id"]


def test_forced_latency_delays_the_answer(client: TestClient) -> None:
    started = time.perf_counter()
    r = client.get("/api/v1/meta", headers={**API, "X-Sandbox-Force": "latency=300"})
    assert r.status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_forced_timeout_hangs_then_504(db_url: str) -> None:
    settings = SandboxSettings(database_url=db_url, env="test", test_headers=True, hang_seconds=0.2)
    with TestClient(create_app(settings)) as c:
        started = time.perf_counter()
        r = c.get("/api/v1/meta", headers={**API, "X-Sandbox-Force": "timeout"})
        assert time.perf_counter() - started >= 0.2
    assert_problem(r, 504, "upstream-timeout")


def test_force_header_is_ignored_without_test_headers(db_url: str) -> None:
    with TestClient(create_app(SandboxSettings(database_url=db_url, env="test"))) as c:
        assert c.get("/api/v1/meta", headers={**API, "X-Sandbox-Force": "503"}).status_code == 200


def test_down_switch_answers_503_everywhere_but_health(client: TestClient) -> None:
    r = client.put("/_sandbox/chaos", json={"profile": "outage"}, headers=ADMIN)
    assert r.json()["down"] is True
    down = client.post("/api/v1/guardians/lookup", json={"phone": "+212600000001"}, headers=API)
    assert_problem(down, 503, "service-unavailable")
    assert down.headers["retry-after"] == "300"
    assert client.get("/health").status_code == 200
    assert client.get("/_sandbox/chaos", headers=ADMIN).json()["profile"] == "outage"
    client.put("/_sandbox/chaos", json={"profile": "off"}, headers=ADMIN)
    assert client.get("/api/v1/meta", headers=API).status_code == 200


def test_flapping_alternates_down_and_up(client: TestClient) -> None:
    client.put("/_sandbox/chaos", json={"down": True, "flap": 0.3}, headers=ADMIN)
    assert client.get("/api/v1/meta", headers=API).status_code == 503
    time.sleep(0.35)
    assert client.get("/api/v1/meta", headers=API).status_code == 200


def _statuses(db_url: str, seed: int) -> list[int]:
    settings = SandboxSettings(database_url=db_url, env="test", error_rate=0.5, chaos_seed=seed)
    with TestClient(create_app(settings)) as c:
        return [c.get("/api/v1/meta", headers=API).status_code for _ in range(30)]


def test_error_rate_is_deterministic_for_a_chaos_seed(db_url: str) -> None:
    first, again, other = _statuses(db_url, 7), _statuses(db_url, 7), _statuses(db_url, 8)
    assert first == again
    assert first != other
    assert 5 <= first.count(200) <= 25
    assert set(first) <= {200, 500, 503, 504}


def test_error_mix_is_respected(client: TestClient) -> None:
    client.put("/_sandbox/chaos", json={"error_rate": 1, "error_mix": "500:1"}, headers=ADMIN)
    r = client.get("/api/v1/meta", headers=API)
    assert_problem(r, 500, "internal")


def test_latency_profile_from_settings(db_url: str) -> None:
    settings = SandboxSettings(
        database_url=db_url, env="test", latency_median_ms=60, latency_p99_ms=120
    )
    with TestClient(create_app(settings)) as c:
        started = time.perf_counter()
        for _ in range(3):
            c.get("/api/v1/meta", headers=API)
        assert time.perf_counter() - started >= 0.09


def test_client_throttling_gives_429(db_url: str) -> None:
    with TestClient(
        create_app(SandboxSettings(database_url=db_url, env="test", rate_limit_rps=2))
    ) as c:
        statuses = [c.get("/api/v1/meta", headers=API).status_code for _ in range(6)]
        assert statuses[:2] == [200, 200]
        assert 429 in statuses
        limited = next(
            r
            for r in (c.get("/api/v1/meta", headers=API) for _ in range(3))
            if r.status_code == 429
        )
        assert_problem(limited, 429, "rate-limited")
        assert limited.headers["retry-after"] == "1"


def test_invalid_chaos_update_is_400(client: TestClient) -> None:
    assert_problem(
        client.put("/_sandbox/chaos", json={"error_rate": 2}, headers=ADMIN), 400, "invalid-request"
    )
    assert_problem(
        client.put("/_sandbox/chaos", json={"profile": "storm"}, headers=ADMIN),
        400,
        "invalid-request",
    )


@pytest.mark.parametrize(
    ("moment", "profile"),
    [
        ("2025-09-03", "rentree"),
        ("2026-01-25", "grade_deadline"),
        ("2026-06-25", "grade_deadline"),
        ("2026-05-20", "normal"),
        ("2025-09-25", "normal"),
    ],
)
def test_auto_peaks_follow_the_sandbox_clock(moment: str, profile: str) -> None:
    assert peak_profile(datetime.fromisoformat(moment).replace(tzinfo=MOROCCO)) == profile


@pytest.fixture
def auto_client(db_url: str) -> Iterator[TestClient]:
    settings = SandboxSettings(database_url=db_url, env="test", auto_peaks=True)
    with TestClient(create_app(settings)) as c:
        yield c


def test_auto_peaks_switch_profile_when_the_clock_moves(auto_client: TestClient) -> None:
    assert (
        auto_client.get("/_sandbox/chaos", headers=ADMIN).json()["effective_profile"]
        == "auto:normal"
    )
    auto_client.post("/_sandbox/clock", json={"now": "2025-09-05T09:00:00+01:00"}, headers=ADMIN)
    assert (
        auto_client.get("/_sandbox/chaos", headers=ADMIN).json()["effective_profile"]
        == "auto:rentree"
    )
