"""An opted-out number receives nothing: random sequences of changes and of messages typed by
the phones (STOP, ARRÊT, توقف, 7bes, START, ابدأ, and messages that only look like them) go
through the dialog engine and the alerts planner, and no alert is ever planned for a phone
whose last switch was STOP, while every other linked phone gets each alert once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend_client import BackendUnavailable, Deadline, NotFound
from backend_client.models import ChangeEvent, GuardianContact
from gateway.alerts.plan import alert_of, plan
from gateway.channels.twilio_sms import SMS_PROFILE
from gateway.dialogs.conversation import Turn
from gateway.dialogs.engine import step
from gateway.dialogs.model import ChannelKind, Inbound
from gateway.state.alerts.preferences import AlertPreference

NOW = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
PHONES = ["+212600000001", "+212700000001", "+212600000111", "+212600000222"]
CONTACTS = {
    "gdn_1": GuardianContact(
        id="gdn_1", first_name_fr="K", first_name_ar="خ", preferred_lang="ar", phones=(PHONES[0],)
    ),
    "gdn_2": GuardianContact(
        id="gdn_2",
        first_name_fr="R",
        first_name_ar="ر",
        preferred_lang="fr",
        phones=(PHONES[1], PHONES[2]),
    ),
    "gdn_3": GuardianContact(
        id="gdn_3", first_name_fr="N", first_name_ar="ن", preferred_lang="fr", phones=(PHONES[3],)
    ),
}
STUDENTS = {"stu_1": ("gdn_1", "gdn_2"), "stu_2": ("gdn_2", "gdn_3"), "stu_3": ("gdn_3",)}
STOPS = ["STOP", "stop", "ARRÊT", "Arret", "توقف", "إيقاف", "7bes", "stop sms"]
STARTS = ["START", "start", "ابدأ", "bda", "Reprendre"]
OTHERS = ["stop les notes svp", "les notes", "bonjour", "1", "reinscription", "arrêt de bus"]


@dataclass
class MemoryPreferences:
    """The `Preferences` port in memory."""

    opted_out: set[str] = field(default_factory=set)
    langs: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)

    async def opt_out(self, phone: str, at: datetime | None = None) -> None:
        self.opted_out.add(phone)

    async def opt_in(self, phone: str, at: datetime | None = None) -> None:
        self.opted_out.discard(phone)

    async def lang(self, phone: str) -> str | None:
        return self.langs.get(phone)

    async def set_lang(self, phone: str, lang: str, at: datetime | None = None) -> None:
        self.langs[phone] = lang

    async def set_channel(
        self, phone: str, channel: str, chat_address: str | None = None, at: datetime | None = None
    ) -> None:
        self.channels[phone] = channel

    def snapshot(self) -> dict[str, AlertPreference]:
        return {p: AlertPreference(opted_out=p in self.opted_out, welcomed=True) for p in PHONES}


class Unreachable:
    """A backend that knows no phone and is otherwise down: switches must not need it."""

    def __getattr__(self, name: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            if name == "lookup_guardian":
                raise NotFound(status=404, code="guardian-not-found")
            raise BackendUnavailable(status=503, code="service-unavailable")

        return call

    def stale_since(self) -> None:
        return None


class NoBindings:
    async def bound_since(self, phone: str) -> dict[str, datetime]:
        return {}

    async def bind(self, phone: str, student_id: str, at: datetime) -> None:
        raise AssertionError("no binding in this test")


class NoLockout:
    async def is_locked(
        self,
        phone: str,
        code: str | None = None,
        *,
        call: str | None = None,
        holder: bool = False,
    ) -> bool:
        return False

    async def locked_until(
        self,
        phone: str,
        code: str | None = None,
        *,
        call: str | None = None,
        holder: bool = False,
    ) -> float | None:
        return None

    async def record_failure(
        self, phone: str, code: str, *, call: str | None = None, holder: bool = False
    ) -> bool:
        return False


def event(n: int, student: str, kind: str) -> ChangeEvent:
    data: dict[str, Any] = {"school_year": "2025-2026", "semester": 2}
    type_ = "grade.published"
    if kind == "absence":
        type_ = "absence.created"
        data = {
            "date": "2026-05-20",
            "start_time": "08:30",
            "end_time": "09:30",
            "hours": 1,
            "kind": "absence",
            "status": "unjustified",
        }
    return ChangeEvent(
        id=f"evt_{n:09d}",
        type=type_,
        occurred_at=NOW,
        student_id=student,
        student_first_name_fr="Youssef",
        student_first_name_ar="يوسف",
        guardian_ids=STUDENTS[student],
        data=data,
    )


async def typed(prefs: MemoryPreferences, phone: str, text: str, n: int) -> None:
    turn = Turn(
        backend=Unreachable(),  # type: ignore[arg-type]
        bindings=NoBindings(),
        lockout=NoLockout(),
        profile=SMS_PROFILE,
        now=NOW,
        deadline=Deadline.after(5.0),
        preferences=prefs,
    )
    inbound = Inbound(
        channel=ChannelKind.SMS, sender=phone, text=text, message_id=f"m{n}", received_at=NOW
    )
    await step(None, inbound, turn)


messages = st.tuples(
    st.just("msg"), st.sampled_from(PHONES), st.sampled_from(STOPS + STARTS + OTHERS)
)
changes = st.tuples(
    st.just("evt"), st.sampled_from(sorted(STUDENTS)), st.sampled_from(["absence", "marks"])
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(messages, changes), min_size=1, max_size=30))
def test_an_opted_out_phone_is_never_sent_an_alert(ops: list[tuple[str, str, str]]) -> None:
    async def run() -> None:
        prefs = MemoryPreferences()
        expected_out: set[str] = set()
        for n, (op, who, what) in enumerate(ops):
            if op == "msg":
                await typed(prefs, who, what, n)
                if what in STOPS:
                    expected_out.add(who)
                elif what in STARTS:
                    expected_out.discard(who)
                assert prefs.opted_out == expected_out, what
                continue
            alert = alert_of(event(n, who, what))
            assert alert is not None
            planned = plan([alert], CONTACTS, prefs.snapshot(), now=NOW, hold_until=None)
            sent = [m.to for m in planned.messages]
            linked = {p for g in STUDENTS[who] for p in CONTACTS[g].phones}
            assert not set(sent) & prefs.opted_out
            assert sorted(sent) == sorted(linked - prefs.opted_out)  # once each, no one missed

    anyio.run(run)


def test_a_malformed_absence_event_alerts_no_one_and_does_not_stop_the_feed() -> None:
    bad = event(1, "stu_1", "absence").model_copy(
        update={"data": {"date": "20/05/2026", "status": "unjustified"}}
    )
    assert alert_of(bad) is None
    unknown = event(2, "stu_1", "marks").model_copy(update={"type": "homework.published"})
    assert alert_of(unknown) is None
