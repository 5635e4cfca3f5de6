"""A stream entry of the outbox: one message, and a follow-up's job, as compact JSON.

An entry's one field `m` holds the message (its address and text, until the entry is
acknowledged and deleted), a follow-up's job (what composing it needs), its guard's hash and
how many compositions were tried. Anything else read from a stream is `Malformed`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway.dialogs.model import Option
from gateway.outbox.model import MessageKind, OutChannel, OutMessage, TemplateCall
from gateway.state.outbox.priority import Priority
from gateway.state.outbox.streams import as_text

__all__ = ["Entry", "Malformed", "decode", "encode"]


class Malformed(ValueError):
    """A stream entry that cannot be read back as a message (moved aside, counted)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One message read from a stream: where it sits, and what it asks."""

    stream: str
    entry_id: str
    message: OutMessage
    job: Mapping[str, Any] | None = None  # a follow-up's input, composed when it is sent
    guard: str | None = None  # the follow-up's guard key hash, freed when it is done
    tries: int = 0  # follow-up compositions tried (the backend was still unavailable)
    raw: Mapping[str, str] = field(default_factory=dict)


def encode(
    msg: OutMessage,
    *,
    job: Mapping[str, Any] | None = None,
    guard: str | None = None,
    tries: int = 0,
) -> str:
    """The entry's one field, compact JSON."""
    doc: dict[str, Any] = {
        "id": msg.id,
        "key": msg.key,
        "ch": msg.channel.value,
        "to": msg.to,
        "text": msg.text,
        "kind": msg.kind.value,
        "pri": int(msg.priority),
        "at": msg.created_at.timestamp(),
        "n": msg.attempt,
    }
    if msg.options:
        doc["opts"] = [[o.key, o.id, o.label] for o in msg.options]
    if msg.sender_id is not None:
        doc["from"] = msg.sender_id
    if msg.route is not None:
        doc["via"] = msg.route
    if msg.student is not None:
        doc["stu"] = msg.student
    if msg.template is not None:
        doc["tpl"] = [msg.template.name, msg.template.lang, list(msg.template.params)]
    if job is not None:
        doc["job"] = job
    if guard is not None:
        doc["guard"] = guard
    if tries:
        doc["tries"] = tries
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def decode(stream: str, entry_id: str, fields: Mapping[bytes | str, bytes | str]) -> Entry:
    """An `Entry`, or `Malformed` when the fields are not one of ours."""
    raw = {as_text(k): as_text(v) for k, v in fields.items()}
    try:
        doc = json.loads(raw["m"])
        # A queued message restored as it was stored (priority and tries included); a new
        # message is built by `outbox.model.outbound()` alone.
        msg = OutMessage(
            id=str(doc["id"]),
            key=str(doc["key"]),
            channel=OutChannel(doc["ch"]),
            to=str(doc["to"]),
            text=str(doc["text"]),
            options=tuple(
                Option(key=str(k), id=str(i), label=str(label))
                for k, i, label in doc.get("opts", ())
            ),
            kind=MessageKind(doc["kind"]),
            priority=Priority(int(doc["pri"])),
            created_at=datetime.fromtimestamp(float(doc["at"]), UTC),
            attempt=int(doc.get("n", 0)),
            sender_id=_optional(doc.get("from")),
            route=_optional(doc.get("via")),
            student=_optional(doc.get("stu")),
            template=_template(doc.get("tpl")),
        )
        job = doc.get("job")
        if job is not None and not isinstance(job, dict):
            raise TypeError("job")
        guard = doc.get("guard")
        return Entry(
            stream=stream,
            entry_id=entry_id,
            message=msg,
            job=job,
            guard=str(guard) if guard is not None else None,
            tries=int(doc.get("tries", 0)),
            raw=raw,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise Malformed(type(exc).__name__) from None


def _template(value: object) -> TemplateCall | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 3 or not isinstance(value[2], list):
        raise TypeError("tpl")
    name, lang, params = value
    return TemplateCall(name=str(name), lang=str(lang), params=tuple(str(p) for p in params))


def _optional(value: object) -> str | None:
    return None if value is None else str(value)
