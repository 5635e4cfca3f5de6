"""From change-feed events to alerts for phones: who gets what, on which channel, in which
language, now or after quiet hours. Pure functions (no I/O): the consumer brings the
guardians' phones and the phones' preferences, and does what the `Plan` says.

```
ChangeEvent ──alert_of──> Alert (kind, student, guardians, payload)
Alert × guardians' phones × preferences ──plan──> Plan(messages to queue now,
                                                       holds until morning, phones welcomed)
```
Each message's idempotency key names the change (or, for marks, the student's semester: a
class's publication is one message per phone, not one per subject or per event), the phone
and the channel, so a re-read event or a restarted consumer never sends twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from backend_client.models import ChangeEvent, ChangeType, GuardianContact
from gateway.alerts.texts import compose, is_decision
from gateway.dialogs.absences import counts_as_unjustified
from gateway.outbox.model import MessageKind, OutChannel, OutMessage, outbound
from gateway.state.alerts.preferences import AlertPreference

__all__ = ["WEEKLY", "Alert", "Hold", "Plan", "alert_key", "alert_of", "message", "plan"]

MARKS_EVENTS = frozenset({ChangeType.GRADE_PUBLISHED, ChangeType.SEMESTER_RESULT_PUBLISHED})
WEEKLY = "weekly"  # the `batch` of a held alert that waits for the weekly summary (weekly.py)
WEEKLY_KINDS = frozenset({"absence", "marks"})  # what a summary tells; the rest goes as it comes


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """One change worth telling guardians about."""

    event_id: str
    seq: int  # the event's place in the feed (evt_000000121 -> 121)
    kind: str  # "absence" | "marks" | "enrolment" (AlertPreference.kinds)
    student_id: str | None
    guardian_ids: tuple[str, ...]
    payload: Mapping[str, Any]  # what the text says: first names, day, hours, semester...

    @property
    def group(self) -> str:
        """What one message is about: the student's semester for marks, else the event."""
        if self.kind == "marks":
            year, semester = self.payload.get("school_year"), self.payload.get("semester")
            return f"marks:{self.student_id}:{year}:{semester}"
        return self.event_id


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold:
    """An alert for one phone kept until `release_at` (quiet hours, a daily digest, or the
    weekly summary: `batch` is `WEEKLY`)."""

    alert: Alert
    guardian_id: str
    phone: str
    release_at: datetime
    batch: str | None = None


@dataclass(slots=True)
class Plan:
    messages: list[OutMessage] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    welcomed: list[str] = field(default_factory=list)  # phones that got their first alert


def alert_of(event: ChangeEvent) -> Alert | None:
    """The alert an event makes, or None (a justified absence, a lateness, an application
    that moves without a decision, a type this gateway does not know)."""
    data = event.data
    names = {"name_fr": event.student_first_name_fr, "name_ar": event.student_first_name_ar}
    if event.type == ChangeType.ABSENCE_CREATED:
        kind, status = str(data.get("kind", "absence")), str(data.get("status", ""))
        if not counts_as_unjustified(kind, status):
            return None  # the one rule (DOMAIN.md §4): a lateness or a justified one is no alert
        keep = ("date", "start_time", "end_time", "hours")
        kind, payload = "absence", {**names, **{k: data.get(k) for k in keep}}
        if not _is_day(data.get("date")):
            return None  # a malformed event alerts no one rather than stop the feed
    elif event.type in MARKS_EVENTS:
        kind = "marks"
        payload = {
            **names,
            "school_year": data.get("school_year"),
            "semester": data.get("semester"),
        }
    elif event.type == ChangeType.ENROLMENT_STATUS_CHANGED:
        if not is_decision(str(data.get("to"))):
            return None
        kind = "enrolment"
        payload = {
            "name_fr": event.student_first_name_fr or data.get("child_first_name_fr"),
            "name_ar": event.student_first_name_ar or data.get("child_first_name_ar"),
            **{k: data.get(k) for k in ("number", "to", "reason")},
        }
    else:
        return None
    return Alert(
        event_id=event.id,
        seq=feed_seq(event.id),
        kind=kind,
        student_id=event.student_id,
        guardian_ids=event.guardian_ids,
        payload=payload,
    )


def _is_day(value: object) -> bool:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def feed_seq(event_id: str) -> int:
    digits = "".join(ch for ch in event_id if ch.isdigit())
    return int(digits) if digits else 0


def route(phone: str, pref: AlertPreference) -> tuple[OutChannel, str]:
    """Where `phone`'s alerts go: SMS, or the chat app the guardian chose."""
    if pref.channel == "whatsapp":
        return OutChannel.WHATSAPP, phone
    if pref.channel == "telegram" and pref.chat_address:
        return OutChannel.TELEGRAM, pref.chat_address
    return OutChannel.SMS, phone


def alert_key(group: str, phone: str, channel: OutChannel) -> str:
    """The idempotency key of (change, guardian's phone, channel) (hashed by the outbox)."""
    return f"alert:{group}:{phone}:{channel.value}"


def message(
    *,
    key: str,
    channel: OutChannel,
    to: str,
    text: str,
    now: datetime,
    student: str | None = None,
) -> OutMessage:
    """An alert for the outbox: bulk priority, behind interactive replies; `student` is the
    child it is about (None: a digest about several)."""
    return outbound(
        MessageKind.ALERT, key=key, channel=channel, to=to, text=text, now=now, student=student
    )


def language(contact: GuardianContact, pref: AlertPreference) -> str:
    return pref.lang or contact.preferred_lang.value


def plan(
    alerts: Iterable[Alert],
    contacts: Mapping[str, GuardianContact],
    prefs: Mapping[str, AlertPreference],
    *,
    now: datetime,
    hold_until: datetime | None,
    digest_at: datetime | None = None,
    weekly_at: datetime | None = None,
) -> Plan:
    """What to do with `alerts`: a message per (alert group, phone, channel) now, or a hold
    per (alert, phone) until `hold_until` (quiet hours), or until `digest_at` for a phone
    that asked for a daily digest, or `weekly_at` for the absences and marks of a phone
    that asked for a weekly summary. Opted-out phones, and phones that do not want this
    kind of alert, get nothing."""
    out = Plan()
    seen: set[str] = set()
    welcomed: set[str] = set()
    for alert in alerts:
        for gid in dict.fromkeys(alert.guardian_ids):
            contact = contacts.get(gid)
            if contact is None:
                continue
            for phone in contact.phones:
                pref = prefs.get(phone, AlertPreference())
                if not pref.wants(alert.kind):
                    continue
                until, batch = hold_until, None
                if pref.digest and digest_at is not None:
                    until = digest_at
                elif pref.weekly and weekly_at is not None and alert.kind in WEEKLY_KINDS:
                    until, batch = weekly_at, WEEKLY
                if until is not None:
                    out.holds.append(
                        Hold(
                            alert=alert, guardian_id=gid, phone=phone, release_at=until, batch=batch
                        )
                    )
                    continue
                channel, to = route(phone, pref)
                key = alert_key(alert.group, phone, channel)
                if key in seen:
                    continue  # two guardians sharing a phone, or marks' two events
                seen.add(key)
                first = not pref.welcomed and phone not in welcomed
                if first:
                    welcomed.add(phone)
                    out.welcomed.append(phone)
                out.messages.append(
                    message(
                        key=key,
                        channel=channel,
                        to=to,
                        text=compose(
                            alert.kind, [alert.payload], language(contact, pref), first=first
                        ),
                        now=now,
                        student=alert.student_id,
                    )
                )
    return out


def merged_key(kind: str, event_ids: Sequence[str], phone: str, channel: OutChannel) -> str:
    """The key of a morning message merging held alerts (one event: its own key)."""
    if len(event_ids) == 1:
        return alert_key(event_ids[0], phone, channel)
    digest = hashlib.sha256("\0".join(sorted(event_ids)).encode()).hexdigest()[:24]
    return alert_key(f"{kind}:merged:{digest}", phone, channel)
