"""Logs carry route templates and request ids, never phones, codes, names or marks."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.sandbox.conftest import API, demo_ids, on_behalf


def test_logs_hold_no_personal_data(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    gid, kids = demo_ids(client)
    grades = client.get(f"/api/v1/students/{kids['001']}/grades", headers=on_behalf(gid)).json()
    client.post(
        "/api/v1/students/verify",
        json={"massar_code": "Z990000001", "birth_date": "2018-09-14", "phone": "+212600000001"},
        headers=API,
    )
    client.post("/api/v1/guardians/lookup", json={"phone": "0600000001"}, headers=API)
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("sandbox"))
    assert "route=/api/v1/students/{sid}/grades" in text
    score = str(grades["subjects"][0]["assessments"][0]["score"])
    for secret in (
        "212600000001",
        "0600000001",
        "Z990000001",
        "2018-09-14",
        "Youssef",
        "Khadija",
        kids["001"],
    ):
        assert secret not in text
    assert f"score={score}" not in text
