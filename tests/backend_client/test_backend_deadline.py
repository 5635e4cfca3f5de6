"""The Deadline value."""

from __future__ import annotations

from backend_client import Deadline


def test_remaining_counts_down_and_never_goes_negative() -> None:
    now = [100.0]
    deadline = Deadline.after(2.0, clock=lambda: now[0])
    assert deadline.remaining() == 2.0
    assert not deadline.expired
    now[0] = 101.5
    assert deadline.remaining() == 0.5
    now[0] = 105.0
    assert deadline.remaining() == 0.0
    assert deadline.expired
