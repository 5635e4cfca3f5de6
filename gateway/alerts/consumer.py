"""The alerts consumer: the backend's change feed in, alerts for guardians out (via the outbox).

```
lease held? ──> bulk gate shut (the outbox's bulk backlog is deep)? wait, read nothing
            ──> release held alerts that are due (quiet hours over), merged per child;
                a weekly summary per child from the backend (weekly.py) at its slot
            ──> GET /changes?cursor=…&limit=N ──> alerts (plan.alert_of)
                 ├─ drop the cached marks/absences/enrolment of each student named
                 ├─ POST /guardians/batch (≤500 ids a call) ──> phones
                 ├─ preferences of those phones (one SQL read) ──> plan: now, or held
                 ├─ outbox.enqueue_many (bulk priority, a key per change, phone, channel)
                 └─ holds + the new cursor, in one SQL transaction
```
At-least-once and never twice: the cursor moves only after the batch's messages are queued
and its holds written; a consumer killed before that reads the batch again and the outbox
drops the keys it already has. A cursor the feed no longer keeps (410) restarts from the
head: what fell out of the 14-day window is lost, and said so in the log.

Backpressure (`gateway.outbox.pressure`): while the outbox's bulk backlog is past its high
water mark the consumer reads nothing (it keeps its lease); the changes it has not read
wait in the feed behind its cursor, and it reads on once the workers drained the backlog
below the low water mark. A page read is queued whole, so the backlog may pass the mark by
one page's messages.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as clock_time
from typing import Any, Protocol, cast

import anyio
import structlog

from backend_client import GUARDIANS_BATCH_MAX, BackendError, CursorExpired
from backend_client.models import ChangesHead, ChangesPage, GuardianContact
from gateway.alerts.plan import (
    WEEKLY,
    Alert,
    alert_key,
    alert_of,
    language,
    merged_key,
    message,
    plan,
    route,
    whatsapp_template,
)
from gateway.alerts.plan import wanted as wanted_by  # `wanted` names the list below
from gateway.alerts.quiet import QuietHours, next_local
from gateway.alerts.texts import compose, digest
from gateway.alerts.weekly import FRIDAY_18, Summaries, Weekly, weekly_messages
from gateway.failures import part_down, part_of
from gateway.outbox.model import OutMessage, TemplateCall
from gateway.outbox.queue import Outbox
from gateway.resilience.cache import Cache
from gateway.resilience.metrics import Metrics
from gateway.state.alerts.lease import Lease
from gateway.state.alerts.preferences import AlertPreference, SqlPreferences
from gateway.state.alerts.store import AlertStore, Held
from gateway.state.errors import StoreError, StoreUnavailable

__all__ = ["AlertsConfig", "AlertsConsumer", "Feed"]

log = structlog.get_logger("gateway.alerts")


class Feed(Protocol):
    """The backend calls the consumer makes (`backend_client.MassarClient`)."""

    async def changes(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> ChangesPage: ...

    async def changes_head(self) -> ChangesHead: ...

    async def guardians_batch(self, guardian_ids: Sequence[str]) -> tuple[GuardianContact, ...]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertsConfig:
    batch: int = 200  # events per feed read (the API's maximum)
    poll_s: float = 1.0  # pause once the feed is read to its head
    retry_s: float = 5.0  # pause after the backend or a store failed
    digest_at: clock_time = clock_time(18, 0)  # local time of the daily digest (phones that asked)
    weekly: Weekly = FRIDAY_18  # the weekly summary's slot


class AlertsConsumer:
    def __init__(
        self,
        *,
        feed: Feed,
        outbox: Outbox,
        preferences: SqlPreferences,
        store: AlertStore,
        lease: Lease,
        quiet: QuietHours | None,
        cache: Cache | None = None,
        config: AlertsConfig | None = None,
        now: Callable[[], datetime] | None = None,
        metrics: Metrics | None = None,
        summaries: Summaries | None = None,
    ) -> None:
        self.feed = feed
        # The weekly summaries' reads (absences, marks): the feed's own client unless given.
        self.summaries = summaries or cast(Summaries, feed)
        self.outbox = outbox
        self.preferences = preferences
        self.store = store
        self.lease = lease
        self.quiet = quiet
        self.cache = cache
        self.config = config or AlertsConfig()
        self.now = now or (lambda: datetime.now(UTC))  # tests set the hour (quiet hours)
        self.sent = 0  # messages queued by this consumer (bench, tests)
        self.metrics = metrics  # its lag, and when it last read the feed

    # --- the loop -------------------------------------------------------------------------

    async def run(self, *, stop: anyio.Event | None = None) -> None:
        """Consume until `stop` is set; only while this process holds the lease."""
        stop = stop or anyio.Event()
        log.info("alerts_consumer_started")
        try:
            while not stop.is_set():
                pause = await self._round()
                if pause:
                    with anyio.move_on_after(pause):
                        await stop.wait()
        finally:
            with anyio.CancelScope(shield=True), contextlib.suppress(StoreUnavailable):
                await self.lease.release()  # else it lapses on its own
            log.info("alerts_consumer_stopped")

    async def _round(self) -> float:
        """One round; how long to wait before the next (0: at once)."""
        try:
            if not await self.lease.hold():
                return self.lease.ttl_ms / 3000
            gate = self.outbox.gate
            if gate is not None and not await gate.open():
                return gate.poll_s  # the feed waits behind the cursor: nothing is lost
            if await self.release_due() and gate is not None and not await gate.open():
                return gate.poll_s  # the morning's release filled it: no page held waiting
            more = await self.step()
        except (BackendError, StoreError, OSError) as exc:
            part = part_of(exc)
            if part is not None:
                part_down(part, "alerts_round", exc)
            else:
                log.warning("alerts_round_failed", error=type(exc).__name__)
            return self.config.retry_s
        return 0.0 if more else self.config.poll_s

    # --- one batch ------------------------------------------------------------------------

    async def step(self) -> bool:
        """Read one page of the feed and queue (or hold) its alerts; True if more wait."""
        cursor = await self.store.cursor()
        if cursor is None:  # first start: from now on, not the feed's 14 days of history
            cursor = (await self.feed.changes_head()).cursor
            await self.store.advance(cursor, [], self.now())
            log.info("alerts_cursor_started_at_head")
        try:
            page = await self.feed.changes(cursor=cursor, limit=self.config.batch)
        except CursorExpired:
            head = (await self.feed.changes_head()).cursor
            await self.store.advance(head, [], self.now())
            log.error("alerts_cursor_expired", note="events past the feed window were skipped")
            return True
        started = time.perf_counter()
        await self._forget_cached(page)
        alerts = [a for a in (alert_of(e) for e in page.items) if a is not None]
        contacts = await self._contacts({g for a in alerts for g in a.guardian_ids})
        phones = [p for c in contacts.values() for p in c.phones]
        prefs = await self.preferences.for_phones(phones)
        now = self.now()
        hold_until = self.quiet.release_at(now) if self.quiet is not None else None
        digest_at = next_local(now, self.config.digest_at)
        weekly_at = self.config.weekly.next_after(now)
        if self.quiet is not None:  # a slot set in quiet hours waits for their end
            weekly_at = self.quiet.release_at(weekly_at) or weekly_at
        todo = plan(
            alerts,
            contacts,
            prefs,
            now=now,
            hold_until=hold_until,
            digest_at=digest_at,
            weekly_at=weekly_at,
        )
        queued = await self.outbox.enqueue_many(todo.messages)
        await self.preferences.welcome(todo.welcomed, now)
        await self.store.advance(page.next_cursor, todo.holds, now)
        self.sent += queued
        self._observe(page, now)
        if page.items:
            log.info(
                "alerts_batch",
                events=len(page.items),
                alerts=len(alerts),
                queued=queued,
                held=len(todo.holds),
                ms=round((time.perf_counter() - started) * 1000, 1),
            )
        return page.has_more

    def _observe(self, page: ChangesPage, now: datetime) -> None:
        """The lag: how old the newest change of this page is while more wait (0 at the
        head), and when the feed was last read (a stalled consumer stops moving it)."""
        if self.metrics is None:
            return
        lag_s = (now - page.items[-1].occurred_at).total_seconds() if page.has_more else 0.0
        self.metrics.alerts_lag.set(max(0.0, lag_s) if page.items else 0.0)
        self.metrics.alerts_last_read.set(now.timestamp())

    async def _contacts(self, gids: set[str]) -> dict[str, GuardianContact]:
        ordered = sorted(gids)
        found: dict[str, GuardianContact] = {}
        chunks = [
            ordered[i : i + GUARDIANS_BATCH_MAX]
            for i in range(0, len(ordered), GUARDIANS_BATCH_MAX)
        ]
        for chunk in chunks:
            for contact in await self.feed.guardians_batch(chunk):
                found[contact.id] = contact
        return found

    async def _forget_cached(self, page: ChangesPage) -> None:
        """A change makes the cached marks, absences or enrolment of its student stale."""
        if self.cache is None:
            return
        students = {e.student_id for e in page.items if e.student_id is not None}
        if students:
            await self.cache.forget_students(sorted(students))

    # --- the morning: held alerts go out ----------------------------------------------------

    async def release_due(self) -> int:
        """Queue the held alerts whose time has come: one message per phone and child
        (several absences of one night become one), or one per phone for a daily digest,
        or a weekly summary per phone and child; how many were queued."""
        due = await self.store.due(self.now())
        if not due:
            return 0
        contacts = await self._contacts({h.guardian_id for h in due})
        phones = {h: p for c in contacts.values() for p in c.phones for h in self.store.phone_hs(p)}
        prefs = await self.preferences.for_phones(list(phones.values()))
        by_phone: dict[str, dict[tuple[str | None, str], list[Held]]] = defaultdict(dict)
        for held in due:  # in feed order: per phone, then per child and kind
            contact = contacts.get(held.guardian_id)
            if contact is None or not contact.may_be_told_about(held.alert.student_id):
                continue  # the school removed this guardian, or forbids notices meanwhile
            if held.batch == WEEKLY:
                continue  # news for a weekly summary (below)
            child = (held.alert.student_id, held.alert.kind)
            # One phone's holds may name it under two key generations (a rekey under way).
            by_phone[phones.get(held.phone_h, "")].setdefault(child, []).append(held)
        welcomed: list[str] = []
        now = self.now()
        weekly = [h for h in due if h.batch == WEEKLY]
        messages = await weekly_messages(
            self.summaries, weekly, contacts, phones, prefs, now=now, welcomed=welcomed
        )
        for phone, per_child in by_phone.items():
            first_held = next(iter(per_child.values()))[0]
            contact = contacts.get(first_held.guardian_id)
            if not phone or contact is None:
                continue  # the school removed this phone meanwhile: nothing to send
            pref = prefs.get(phone, AlertPreference())
            wanted = [items for (_, kind), items in per_child.items() if wanted_by(pref, kind)]
            if not wanted:
                continue  # opted out during the night
            parts = [self._morning(items, phone, pref) for items in wanted]
            if not pref.digest:
                for items, (key, (kind, payloads)) in zip(wanted, parts, strict=True):
                    first = not pref.welcomed and phone not in welcomed
                    if first:
                        welcomed.append(phone)
                    lang = language(contact, pref)
                    text = compose(kind, payloads, lang, first=first)
                    student = items[0].alert.student_id  # one message per child
                    tpl = whatsapp_template(route(phone, pref)[0], kind, payloads, lang, pref)
                    messages.append(self._message(key, phone, pref, text, now, student, tpl))
                continue
            # A daily digest: one message for all of this phone's children.
            first = not pref.welcomed and phone not in welcomed
            if first:
                welcomed.append(phone)
            lang = language(contact, pref)
            text = digest(
                [compose(k, items, lang, first=False) for _, (k, items) in parts], lang, first=first
            )
            events = [h.alert.event_id for items in wanted for h in items]
            channel = route(phone, pref)[0]
            digest_key = merged_key("digest", events, phone, channel)
            tpl = whatsapp_template(channel, "digest", [], lang, pref)
            messages.append(self._message(digest_key, phone, pref, text, now, None, tpl))
        queued = await self.outbox.enqueue_many(messages)
        await self.preferences.welcome(welcomed, now)
        await self.store.forget([h.row_id for h in due])
        self.sent += queued
        log.info("alerts_released", held=len(due), queued=queued)
        return queued

    def _morning(
        self, items: list[Held], phone: str, pref: AlertPreference
    ) -> tuple[str, tuple[str, list[Mapping[str, Any]]]]:
        """The key of one morning message about one child, and what it says (kind, payloads)."""
        channel = route(phone, pref)[0]
        first: Alert = items[0].alert
        if first.kind in ("marks", "result"):  # one message per semester, or per year
            return alert_key(first.group, phone, channel), (first.kind, [items[-1].alert.payload])
        events = list(dict.fromkeys(h.alert.event_id for h in items))
        payloads = [h.alert.payload for h in items]
        if first.kind == "enrolment":
            payloads = payloads[-1:]  # the latest decision is the news
        return merged_key(first.kind, events, phone, channel), (first.kind, payloads)

    @staticmethod
    def _message(
        key: str,
        phone: str,
        pref: AlertPreference,
        text: str,
        now: datetime,
        student: str | None = None,
        template: TemplateCall | None = None,
    ) -> OutMessage:
        channel, to = route(phone, pref)
        return message(
            key=key, channel=channel, to=to, text=text, now=now, student=student, template=template
        )
