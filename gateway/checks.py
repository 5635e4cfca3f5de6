"""The settings whose text is read where it is used (settings import nothing of the gateway),
read once at start-up, so a bad value stops the gateway there and not at its first use."""

from __future__ import annotations

from gateway.alerts.quiet import QuietHours
from gateway.channels.ussd.ops import parse_ops
from gateway.settings import Settings


class BadSetting(ValueError):
    """`name` (a `Settings` field) holds what its reader refuses, for `reason`."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


def check_settings(settings: Settings) -> None:
    """Raise `BadSetting` for the first value that cannot be read."""
    try:
        QuietHours.parse(settings.quiet_hours)
    except ValueError as exc:
        raise BadSetting("quiet_hours", str(exc)) from None
    try:
        parse_ops(settings.ussd_kannel_ops)
    except ValueError as exc:
        raise BadSetting("ussd_kannel_ops", str(exc)) from None
