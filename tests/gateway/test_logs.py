"""Logs never hold a full phone number, a Massar code, a name or a mark."""

from __future__ import annotations

import io
import json
import logging
import sys
from pathlib import Path

import pytest
import structlog

from gateway import logs

PHONE = "+212612345678"
CODE = "Z990000001"


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    logs.configure(json_logs=True, level="DEBUG")
    capsys.readouterr()
    return capsys


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]


@pytest.mark.parametrize(
    "phone",
    [PHONE, "0612345678", "00212612345678", "212612345678", "06 12 34 56 78", "06.12.34.56.78"],
)
def test_phone_numbers_in_any_form_are_masked(phone: str) -> None:
    masked = logs.mask_text(f"call from {phone} ended")
    assert masked.startswith("call from ")
    assert masked.endswith("78 ended")
    digits = "".join(ch for ch in masked if ch.isdigit())
    assert digits == "78"


def test_massar_codes_are_masked_even_inside_a_login() -> None:
    masked = logs.mask_text(f"login {CODE} or {CODE.lower()}@taalim.ma")
    assert CODE not in masked
    assert CODE.lower() not in masked
    assert "Z*******01" in masked


@pytest.mark.parametrize("address", ["172.16.10.20", "192.168.100.200", "10.250.10.10"])
def test_an_ipv4_address_stays_readable(address: str) -> None:
    text = f"Redis at {address}:6379/0 does not persist"
    assert logs.mask_text(text) == text


@pytest.mark.parametrize("phone", ["06.12.34.56", "212.612.345.678", "212.61.23.45.67"])
def test_a_dotted_number_that_is_no_ipv4_address_is_masked(phone: str) -> None:
    masked = logs.mask_text(f"call from {phone} ended")
    assert phone not in masked
    assert "".join(ch for ch in masked if ch.isdigit()) == phone.replace(".", "")[-2:]


def test_dates_times_and_short_numbers_stay_readable() -> None:
    text = "at 2026-05-20T10:05:00+01:00, 3 hours, request 1234567, stu_01HZX3M2"
    assert logs.mask_text(text) == text


def test_structlog_events_are_redacted(json_logs: pytest.CaptureFixture[str]) -> None:
    log = structlog.get_logger("test")
    log.info(
        f"lookup for {PHONE}",  # noqa: G004 - a careless caller, on purpose
        phone=PHONE,
        student={"massar_code": CODE, "first_name_fr": "Youssef", "score": 14.25},
        text="ABS " + CODE,
        hours=3,
    )
    (line,) = _lines(json_logs)
    raw = json.dumps(line, ensure_ascii=False)
    for secret in (PHONE, "612345678", CODE, "Youssef", "14.25", "ABS"):
        assert secret not in raw
    assert line["hours"] == 3
    assert line["text"] == logs.REDACTED
    assert line["student"] == {
        "massar_code": "Z*******01",
        "first_name_fr": logs.REDACTED,
        "score": logs.REDACTED,
    }


def test_standard_library_records_are_redacted_too(json_logs: pytest.CaptureFixture[str]) -> None:
    logging.getLogger("uvicorn.error").warning("client %s sent %s", PHONE, CODE)
    (line,) = _lines(json_logs)
    assert PHONE not in line["event"]
    assert CODE not in line["event"]
    assert line["level"] == "warning"


def test_uvicorns_color_message_extra_is_not_repeated(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    logging.getLogger("uvicorn.error").info(
        "Uvicorn running on %s", "x", extra={"color_message": "Uvicorn \x1b[1m%s\x1b[0m"}
    )
    # Only this record's line: anything else on stderr (another test's late line) is not ours.
    err = json_logs.readouterr().err.splitlines()
    lines = [json.loads(line) for line in err if '"uvicorn.error"' in line]
    assert [line["event"] for line in lines] == ["Uvicorn running on x"]
    assert "color_message" not in lines[0]


def test_phone_hash_is_keyed_and_stable() -> None:
    a = logs.phone_hash(b"key-1", PHONE)
    assert a == logs.phone_hash(b"key-1", PHONE)
    assert a != logs.phone_hash(b"key-2", PHONE)
    assert len(a) == 12
    assert PHONE not in a


def test_a_log_file_takes_every_line_and_the_terminal_none(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "var" / "gateway.log"  # its folder does not exist yet
    logs.configure(json_logs=True, level="INFO", file=file)
    try:
        structlog.get_logger("gateway").info("gateway starting", phone=PHONE)
        logging.getLogger("sandbox.access").info("GET /api/v1/health 200")
        logging.getLogger("uvicorn.error").warning("client %s left", PHONE)
    finally:
        logs.configure(json_logs=True, level="INFO")  # closes the file: all lines are written
    assert capfd.readouterr() == ("", "")
    lines = [json.loads(line) for line in file.read_text("utf-8").splitlines()]
    assert [(line["logger"], line["event"]) for line in lines] == [
        ("gateway", "gateway starting"),
        ("sandbox.access", "GET /api/v1/health 200"),
        ("uvicorn.error", "client **********78 left"),
    ]
    assert PHONE not in file.read_text("utf-8")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_console_log_file_holds_no_colour_codes_even_from_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stderr", _Terminal())
    file = tmp_path / "gateway.log"
    logs.configure(json_logs=False, level="INFO", file=file)
    try:
        structlog.get_logger("gateway").warning("redis_warm_up_failed", error="ConnectionError")
    finally:
        logs.configure(json_logs=False, level="INFO")
    text = file.read_text("utf-8")
    assert "redis_warm_up_failed" in text
    assert "\x1b[" not in text
