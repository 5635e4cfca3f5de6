"""Quiet hours: when an alert made now may go out (`GATEWAY_QUIET_HOURS`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.alerts.quiet import LOCAL_TZ, QuietHours
from gateway.app import create_app
from gateway.checks import BadSetting
from gateway.settings import Settings

NIGHT = QuietHours.parse("21:00-07:00")


@pytest.mark.parametrize(
    ("local", "release"),  # Casablanca wall-clock times
    [
        (datetime(2026, 5, 20, 20, 59, tzinfo=LOCAL_TZ), None),
        (
            datetime(2026, 5, 20, 21, 0, tzinfo=LOCAL_TZ),
            datetime(2026, 5, 21, 7, 0, tzinfo=LOCAL_TZ),
        ),
        (
            datetime(2026, 5, 20, 23, 59, tzinfo=LOCAL_TZ),
            datetime(2026, 5, 21, 7, 0, tzinfo=LOCAL_TZ),
        ),
        (
            datetime(2026, 5, 21, 3, 0, tzinfo=LOCAL_TZ),
            datetime(2026, 5, 21, 7, 0, tzinfo=LOCAL_TZ),
        ),
        (datetime(2026, 5, 21, 7, 0, tzinfo=LOCAL_TZ), None),
        (
            datetime(2026, 12, 31, 22, 0, tzinfo=LOCAL_TZ),
            datetime(2027, 1, 1, 7, 0, tzinfo=LOCAL_TZ),
        ),
    ],
)
def test_alerts_made_at_night_wait_for_seven(local: datetime, release: datetime | None) -> None:
    assert NIGHT is not None
    assert NIGHT.release_at(local.astimezone(UTC)) == release


def test_a_window_within_one_day_and_none() -> None:
    lunch = QuietHours.parse("12:00-14:00")
    assert lunch is not None
    noon = datetime(2026, 5, 20, 12, 30, tzinfo=LOCAL_TZ)
    assert lunch.release_at(noon) == datetime(2026, 5, 20, 14, 0, tzinfo=LOCAL_TZ)
    assert QuietHours.parse("none") is None


@pytest.mark.parametrize("value", ["21h-7h", "21:00", "07:00-07:00", "25:00-07:00"])
def test_settings_refuse_what_is_not_a_window(value: str) -> None:
    with pytest.raises(BadSetting, match="quiet_hours"):
        create_app(Settings(env="test", quiet_hours=value))  # type: ignore[arg-type]
    assert Settings(env="test", quiet_hours="none").quiet_hours == "none"  # type: ignore[arg-type]
