"""A whole conversation's log lines: correlated by a keyed hash, with no personal data."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from gateway.logs import phone_hash
from tests.gateway.conftest import SmsPhone, UssdPhone

PHONE = "+212600000001"
SECRETS = ("600000001", "0600000001", "Z990000001", "14092018", "Youssef", "يوسف", "Salma")


def test_a_conversations_logs_hold_no_phone_code_date_or_name(
    make_gateway: Callable[..., TestClient], capsys: pytest.CaptureFixture[str]
) -> None:
    key = "log-test-key"
    gateway = make_gateway(identity_key=key, log_level="INFO", log_format="json")
    capsys.readouterr()
    sms = SmsPhone(gateway, PHONE)
    sms.send("ABS")
    assert sms.send("Z990000001 14092018").startswith("يوسف")  # the guardian's Arabic
    ussd = UssdPhone(gateway, PHONE)
    ussd.dial()
    ussd.press("1")
    ussd.press("9")

    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    requests = [line for line in lines if line.get("event") == "request"]
    assert len(requests) >= 5
    assert {line["phone_h"] for line in requests} == {phone_hash(key.encode(), PHONE)}
    raw = json.dumps(lines, ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in raw, secret
