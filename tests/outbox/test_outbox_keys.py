"""The outbox's key strings, pinned: queued messages and markers must survive a deploy."""

from __future__ import annotations

from gateway.state.outbox.keys import OutboxKeys
from gateway.state.outbox.priority import Priority


def test_every_outbox_key_keeps_its_exact_string() -> None:
    keys = OutboxKeys("mg", "ab12cd34")
    assert [keys.stream(p) for p in Priority] == [
        "mg:{outbox:ab12cd34}:q:0",
        "mg:{outbox:ab12cd34}:q:1",
        "mg:{outbox:ab12cd34}:q:2",
    ]
    assert [
        keys.delayed,
        keys.dead,
        keys.idem("h"),
        keys.sent("h"),
        keys.lease("h"),
        keys.guard("g"),
        keys.bucket("sms"),
        keys.link_bucket("sms", "IAM"),
    ] == [
        "mg:{outbox:ab12cd34}:delayed",
        "mg:{outbox:ab12cd34}:dead",
        "mg:{outbox:ab12cd34}:idem:h",
        "mg:{outbox:ab12cd34}:sent:h",
        "mg:{outbox:ab12cd34}:lease:h",
        "mg:{outbox:ab12cd34}:guard:g",
        "mg:{outbox:ab12cd34}:tb:sms",
        "mg:{outbox:ab12cd34}:tb:sms-link:IAM",
    ]


def test_without_a_namespace_the_tag_is_the_bare_outbox() -> None:
    assert OutboxKeys().stream(Priority.BULK) == "mg:{outbox}:q:2"
