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

from backend_client.models import AbsenceStatus, ChangeEvent, ChangeType, GuardianContact
from gateway.alerts.templates import template_call
from gateway.alerts.texts import compose, is_decision, is_year_decision
from gateway.dialogs.absences import counts_as_unjustified, running_total
from gateway.outbox.model import MessageKind, OutChannel, OutMessage, TemplateCall, outbound
from gateway.state.alerts.preferences import AlertPreference
from gateway.state.alerts.store import Alert, Hold  # values the store keeps, defined there

__all__ = ["WEEKLY", "Alert", "Hold", "Plan", "alert_key", "alert_of", "message", "plan", "wanted"]

MARKS_EVENTS = frozenset({ChangeType.GRADE_PUBLISHED, ChangeType.SEMESTER_RESULT_PUBLISHED})
ABSENCE_EVENTS = frozenset({ChangeType.ABSENCE_CREATED, ChangeType.ABSENCE_UPDATED})
# The preference (`AlertPreference.kinds`) that lets each alert kind through: a year result is
# news about marks.
PREFERENCE_OF = {"result": "marks"}
WEEKLY = "weekly"  # the `batch` of a held alert that waits for the weekly summary (weekly.py)
# What a summary tells; the rest (enrolment decisions, year results) goes as it comes.
WEEKLY_KINDS = frozenset({"absence", "marks"})


@dataclass(slots=True)
class Plan:
    messages: list[OutMessage] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    welcomed: list[str] = field(default_factory=list)  # phones that got their first alert


def alert_of(event: ChangeEvent) -> Alert | None:
    """The alert an event makes, or None (a justified absence, a lateness, an application
    that moves without a decision, a year result still pending, a type this gateway does not
    know)."""
    data = event.data
    names = {"name_fr": event.student_first_name_fr, "name_ar": event.student_first_name_ar}
    payload: dict[str, Any]
    if event.type in ABSENCE_EVENTS:
        found = _absence_payload(event)
        if found is None:
            return None
        kind, payload = "absence", {**names, **found}
    elif event.type in MARKS_EVENTS:
        kind = "marks"
        payload = {
            **names,
            "school_year": data.get("school_year"),
            "semester": data.get("semester"),
        }
    elif event.type == ChangeType.YEAR_RESULT_PUBLISHED:
        if not is_year_decision(str(data.get("decision"))):
            return None  # pending: the council has not decided, nothing to tell yet
        kind = "result"
        payload = {**names, "school_year": data.get("school_year"), "decision": data["decision"]}
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


def _absence_payload(event: ChangeEvent) -> dict[str, Any] | None:
    """What an absence alert says, by the one rule (DOMAIN.md §4): a new unjustified absence,
    or an excuse refused later (`absence.updated` to `rejected`: a short correction); a
    lateness or a justified absence is no alert. The running total is the event's own
    (`ChangeEvent.totals`), never read per alert: a backend without it gives no total."""
    data = event.data
    kind, status = str(data.get("kind", "absence")), str(data.get("status", ""))
    if not counts_as_unjustified(kind, status):
        return None
    refused = event.type == ChangeType.ABSENCE_UPDATED
    if refused and status != AbsenceStatus.REJECTED:
        return None  # an update that leaves it unjustified is no news
    if not _is_day(data.get("date")):
        return None  # a malformed event alerts no one rather than stop the feed
    total = running_total(event.totals) if event.totals is not None else None
    keep = ("date", "start_time", "end_time", "hours")
    return {
        **{k: data.get(k) for k in keep},
        "refused": refused,
        "total": None if total is None else {"count": total.count, "hours": total.hours},
    }


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
    template: TemplateCall | None = None,
) -> OutMessage:
    """An alert for the outbox: bulk priority, behind interactive replies; `student` is the
    child it is about (None: a digest about several); `template`: what it becomes on
    WhatsApp outside the 24-hour window."""
    return outbound(
        MessageKind.ALERT,
        key=key,
        channel=channel,
        to=to,
        text=text,
        now=now,
        student=student,
        template=template,
    )


def wanted(pref: AlertPreference, kind: str) -> bool:
    """Whether a phone with `pref` takes alerts of `kind` (not opted out, and the kind chosen)."""
    return pref.wants(PREFERENCE_OF.get(kind, kind))


def whatsapp_template(
    channel: OutChannel,
    kind: str,
    payloads: Sequence[Mapping[str, Any]],
    lang: str,
    pref: AlertPreference,
) -> TemplateCall | None:
    """The template of a WhatsApp alert (None on other channels), in the detail the
    guardian chose (minimal unless they asked for full, DOMAIN.md §6)."""
    if channel is not OutChannel.WHATSAPP:
        return None
    return template_call(kind, payloads, lang, detail=pref.detail)


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
    that asked for a weekly summary. Opted-out phones, phones that do not want this kind of
    alert, and guardians the school forbids notices to (`may_notify`) get nothing."""
    out = Plan()
    seen: set[str] = set()
    welcomed: set[str] = set()
    for alert in alerts:
        for gid in dict.fromkeys(alert.guardian_ids):
            contact = contacts.get(gid)
            if contact is None or not contact.may_be_told_about(alert.student_id):
                continue  # unknown, or the school says no notices to this guardian (may_notify)
            for phone in contact.phones:
                pref = prefs.get(phone, AlertPreference())
                if not wanted(pref, alert.kind):
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
                lang, payloads = language(contact, pref), [alert.payload]
                out.messages.append(
                    message(
                        key=key,
                        channel=channel,
                        to=to,
                        text=compose(alert.kind, payloads, lang, first=first),
                        now=now,
                        student=alert.student_id,
                        template=whatsapp_template(channel, alert.kind, payloads, lang, pref),
                    )
                )
    return out


def merged_key(kind: str, event_ids: Sequence[str], phone: str, channel: OutChannel) -> str:
    """The key of a morning message merging held alerts (one event: its own key)."""
    if len(event_ids) == 1:
        return alert_key(event_ids[0], phone, channel)
    digest = hashlib.sha256("\0".join(sorted(event_ids)).encode()).hexdigest()[:24]
    return alert_key(f"{kind}:merged:{digest}", phone, channel)
